{{ config(materialized='table') }}
-- The data-use mart: which marts use which personal fields, why, on what basis, how each
-- field is protected, how long it is kept and who may read it. No fiscal year: rebuilt
-- whole from the register and the lineage at every build.
select
    mart,
    dataset,
    personal_field,
    protection,
    purpose,
    legal_basis,
    retention_years,
    readers
from {{ ref('int_data_use') }}
