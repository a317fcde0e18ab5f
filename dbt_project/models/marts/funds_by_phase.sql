-- Funds by budget phase along the chain the money follows (the government's whole
-- budget -> each organisation, e.g. ministry or department -> each of its programmes),
-- and by economic class and by function of government (COFOG), per fiscal year, feed and
-- currency: what was proposed, approved, adjusted and executed, the variance and the
-- execution rate. From every ledger source (fiscal data packages, GC rbpo, city
-- ledgers), each in its own currency: amounts are never summed across currencies or feeds.
--
--   budget_amount  = adjusted when the group has adjusted entries, else approved
--   variance       = executed - budget (negative: underspent)
--   execution_rate = executed / budget (null without a positive budget or any execution)
-- A classification a feed does not use at all (no economic class, no COFOG) gives no row.
with entries as (
    select
        fiscal_year,
        coalesce(source, 'landing') as source,
        currency,
        cost_centre,
        programme_id,
        economic_class,
        cofog_division,
        phase,
        amount
    from {{ ref('stg_ledger_entries') }}
    where amount is not null and is_revenue is not true
),

grouped as (
    select
        fiscal_year,
        source,
        currency,
        case
            when grouping(cost_centre) = 0 and grouping(programme_id) = 0 then 'programme'
            when grouping(cost_centre) = 0 then 'organisation'
            when grouping(economic_class) = 0 then 'economic_class'
            when grouping(cofog_division) = 0 then 'function'
            else 'government'
        end as level,
        cost_centre,
        programme_id,
        economic_class,
        cofog_division,
        count(*) as entries,
        {{ exact_sum("case when phase = 'proposed' then amount end") }} as proposed_amount,
        {{ exact_sum("case when phase = 'approved' then amount end") }} as approved_amount,
        {{ exact_sum("case when phase = 'adjusted' then amount end") }} as adjusted_amount,
        {{ exact_sum("case when phase = 'executed' then amount end") }} as executed_amount
    from entries
    group by grouping sets (
        (fiscal_year, source, currency),
        (fiscal_year, source, currency, cost_centre),
        (fiscal_year, source, currency, cost_centre, programme_id),
        (fiscal_year, source, currency, economic_class),
        (fiscal_year, source, currency, cofog_division)
    )
),

budgeted as (
    select
        *,
        coalesce(adjusted_amount, approved_amount) as budget_amount,
        case
            when adjusted_amount is not null then 'adjusted'
            when approved_amount is not null then 'approved'
        end as budget_phase
    from grouped
)

select
    cast(fiscal_year as integer) as fiscal_year,
    cast(source as varchar) as source,
    cast(currency as varchar) as currency,
    cast(level as varchar) as level,
    cast(case when level in ('organisation', 'programme') then cost_centre end as varchar) as cost_centre,
    cast(case when level = 'programme' then programme_id end as varchar) as programme_id,
    cast(case when level = 'economic_class' then economic_class end as varchar) as economic_class,
    cast(case when level = 'function' then cofog_division end as varchar) as cofog_division,
    cast(entries as bigint) as entries,
    cast(proposed_amount as double) as proposed_amount,
    cast(approved_amount as double) as approved_amount,
    cast(adjusted_amount as double) as adjusted_amount,
    cast(executed_amount as double) as executed_amount,
    cast(budget_amount as double) as budget_amount,
    cast(budget_phase as varchar) as budget_phase,
    cast(executed_amount - budget_amount as double) as variance_amount,
    cast(case when budget_amount > 0 then executed_amount / budget_amount end as double) as execution_rate
from (
    select
        *,
        -- of a classification the feed does not use at all, no `unclassified` row
        count(case level when 'economic_class' then economic_class when 'function' then cofog_division end)
            over (partition by fiscal_year, source, currency, level) as classified_groups
    from budgeted
) as b
where
    {{ fiscal_year_filter('fiscal_year') }}
    and (level not in ('economic_class', 'function') or classified_groups > 0)
