-- Ledger entries. service_id null = a shared cost centre; channel null = a cost common
-- to all channels (of the service, or of all services for a shared centre).
-- is_revenue: a fee revenue line (economic_class `fee_revenue`, money the service took
-- in, a positive amount; contracts/models.py LedgerEntryModel declares and checks it):
-- never a cost, only marts.service_channel_kpis.fee_revenue reads it.
with source as (
    select * from {{ source('raw', 'ledger_entries') }}
    where {{ fiscal_year_filter('fiscal_year') }}
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(entry_id as varchar) as entry_id,
    cast(programme_id as varchar) as programme_id,
    cast(service_id as varchar) as service_id,
    cast(cost_centre as varchar) as cost_centre,
    lower(trim(cast(economic_class as varchar))) as economic_class,
    nullif(trim(cast(cofog_division as varchar)), '') as cofog_division,
    nullif(lower(trim(cast(channel as varchar))), '') as channel,
    lower(trim(cast(phase as varchar))) as phase,
    cast(amount as double) as amount,
    cast(currency as varchar) as currency,
    service_id is null as is_shared,
    coalesce(lower(trim(cast(phase as varchar))) = 'executed', false) as is_executed,
    coalesce(lower(trim(cast(economic_class as varchar))) = 'fee_revenue', false) as is_revenue,
    cast(_source as varchar) as source,
    cast(_load_id as varchar) as load_id,
    cast(_source_file as varchar) as source_file
from source
