-- Which marts use which personal fields, with what the data-use register says of each:
-- the lineage lake.data_use derives from this project (reference.data_use_lineage)
-- joined to the register (reference.processing_register) on dataset and field. Both are
-- landed by the orchestrator before dbt runs; typed here so the mart reads fixed types.
with lineage as (
    select
        cast(mart as varchar) as mart,
        cast(dataset as varchar) as dataset,
        cast(personal_field as varchar) as personal_field
    from {{ source('reference', 'data_use_lineage') }}
),

register as (
    select
        cast(dataset as varchar) as dataset,
        cast(personal_field as varchar) as personal_field,
        cast(protection as varchar) as protection,
        cast(purpose as varchar) as purpose,
        cast(legal_basis as varchar) as legal_basis,
        cast(retention_years as integer) as retention_years,
        cast(readers as varchar) as readers
    from {{ source('reference', 'processing_register') }}
)

select
    lineage.mart,
    lineage.dataset,
    lineage.personal_field,
    register.protection,
    register.purpose,
    register.legal_basis,
    register.retention_years,
    register.readers
from lineage
inner join register
    on
        lineage.dataset = register.dataset
        and lineage.personal_field = register.personal_field
