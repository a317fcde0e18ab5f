{#
  Channel groups of the budget plan: online, mobile, phone, in_person, and `other` for
  every other channel (mail, email, fax, other). Digital = online + mobile; the channels a
  shift online takes volume from are the non-digital ones (phone, in_person, other).
#}
{% macro plan_channel_group(channel) -%}
    case when {{ channel }} in ('online', 'mobile', 'phone', 'in_person') then {{ channel }} else 'other' end
{%- endmacro %}

{% macro is_digital_channel(channel) -%}
    ({{ channel }} in ('online', 'mobile'))
{%- endmacro %}
