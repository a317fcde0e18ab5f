-- Channels each service offers in a fiscal year (services.channels, `;`-separated).
with split as (
    select
        fiscal_year,
        service_id,
        lower(trim(unnest(string_split(coalesce(channels_offered, ''), ';')))) as channel
    from {{ ref('stg_services') }}
)

select distinct
    fiscal_year,
    service_id,
    channel
from split
where channel <> ''
