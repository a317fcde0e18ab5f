"""The functions a query over the marts may call: an allowlist of function families.

A denylist of names always misses one (quoted names, schema-qualified names, a function
added in the next DuckDB release), so `civic query` allows only what an analyst needs to
compute over rows already in the marts: arithmetic, text, dates, conditionals, lists,
structs, JSON values, aggregates and window functions. Everything that reads files,
URLs, settings, variables, the catalogue, sequences or the session (current_setting,
getvariable, pg_get_viewdef, duckdb_*(), read_*(), query(), nextval, version, ...)
is absent, hence refused. Names are DuckDB's own, as its parser reports them.
"""

from __future__ import annotations


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Operators as DuckDB's parser names them (`a + b` is the function "+", LIKE is "~~").
OPERATORS = _names(
    """
    + - * / // % ** ^ || & | ~ << >> ! !__postfix
    ~~ !~~ ~~* !~~* ~~~ ^@ @> <@ && ->> <-> <=> @ xor
    """
)

_ARITHMETIC = """
    abs acos acosh add asin asinh atan atan2 atanh bit_count cbrt ceil ceiling cos cosh cot
    degrees divide even exp factorial fdiv floor fmod gamma gcd greatest greatest_common_divisor
    isfinite isinf isnan lcm least least_common_multiple lgamma ln log log10 log2 mod multiply
    nextafter pi pow power radians random round round_even roundbankers sign signbit sin sinh
    sqrt subtract tan tanh trunc equi_width_bins to_base bin hex unbin unhex
"""
_TEXT = """
    ascii bar base64 bit_length chr char_length character_length concat concat_ws contains
    damerau_levenshtein editdist3 ends_with format formatreadabledecimalsize formatreadablesize
    format_bytes from_base64 hamming hash ilike_escape instr jaccard jaro_similarity
    jaro_winkler_similarity lcase left left_grapheme len length length_grapheme levenshtein
    like_escape lower lpad ltrim md5 md5_number md5_number_lower md5_number_upper mismatches
    nfc_normalize not_ilike_escape not_like_escape octet_length ord parse_formatted_bytes
    position prefix printf regexp_escape regexp_extract regexp_extract_all regexp_full_match
    regexp_matches regexp_replace regexp_split_to_array repeat replace reverse right
    right_grapheme rpad rtrim sha1 sha256 split split_part starts_with str_split str_split_regex
    string_split string_split_regex string_to_array strip_accents strlen strpos substr substring
    substring_grapheme suffix to_base64 translate trim ucase unicode upper url_decode url_encode
    encode decode to_hex from_hex to_binary from_binary
"""
_DATES = """
    age century current_date current_localtime current_localtimestamp date_add date_diff
    date_part date_sub date_trunc datediff datepart datesub datetrunc day dayname dayofmonth
    dayofweek dayofyear days_in_month decade epoch epoch_ms epoch_ns epoch_us era
    get_current_time get_current_timestamp hour isodow isoyear julian last_day make_date
    make_time make_timestamp make_timestamp_ms make_timestamp_ns make_timestamptz microsecond
    millennium millisecond minute month monthname nanosecond normalized_interval now quarter
    second strftime strptime time_bucket timezone timezone_hour timezone_minute to_centuries
    to_days to_decades to_hours to_microseconds to_millennia to_milliseconds to_minutes
    to_months to_quarters to_seconds to_timestamp to_weeks to_years today
    transaction_timestamp try_strptime week weekday weekofyear year yearweek ago
"""
_CONDITIONAL_AND_TYPES = """
    coalesce ifnull nullif constant_or_null typeof error
    uuid uuidv4 uuidv7 gen_random_uuid uuid_extract_timestamp uuid_extract_version
    enum_code enum_first enum_last enum_range enum_range_boundary
"""
_LISTS_STRUCTS_MAPS = """
    aggregate apply array_aggr array_aggregate array_apply array_cat array_concat array_contains
    array_cosine_distance array_cosine_similarity array_cross_product array_distance
    array_distinct array_dot_product array_extract array_filter array_grade_up array_has
    array_has_all array_has_any array_indexof array_inner_product array_intersect array_length
    array_negative_dot_product array_negative_inner_product array_position array_reduce
    array_resize array_reverse_sort array_select array_slice array_sort array_transform
    array_unique array_value array_where array_zip array_append array_pop_back array_pop_front
    array_prepend array_push_back array_push_front array_reverse array_to_string cardinality
    element_at filter flatten generate_series generate_subscripts grade_up list_aggr
    list_aggregate list_apply list_cat list_concat list_contains list_cosine_distance
    list_cosine_similarity list_distance list_distinct list_dot_product list_element
    list_extract list_filter list_grade_up list_has list_has_all list_has_any list_indexof
    list_inner_product list_intersect list_negative_dot_product list_negative_inner_product
    list_pack list_position list_reduce list_resize list_reverse_sort list_select list_slice
    list_sort list_transform list_unique list_value list_where list_zip list_any_value
    list_append list_approx_count_distinct list_avg list_bit_and list_bit_or list_bit_xor
    list_bool_and list_bool_or list_count list_entropy list_first list_histogram list_kurtosis
    list_kurtosis_pop list_last list_mad list_max list_median list_min list_mode list_prepend
    list_product list_reverse list_sem list_skewness list_stddev_pop list_stddev_samp
    list_string_agg list_sum list_var_pop list_var_samp range reduce unnest unpivot_list
    map map_concat map_contains map_contains_entry map_contains_value map_entries map_extract
    map_extract_value map_from_entries map_keys map_values row struct_concat struct_contains
    struct_extract struct_extract_at struct_has struct_indexof struct_insert struct_keys
    struct_pack struct_position struct_update struct_values union_extract union_tag union_value
"""
_JSON_VALUES = """
    array_to_json from_json from_json_strict json json_array json_array_length json_contains
    json_exists json_extract json_extract_path json_extract_path_text json_extract_string
    json_keys json_merge_patch json_object json_pretty json_quote json_structure json_transform
    json_transform_strict json_type json_valid json_value row_to_json to_json
"""
_AGGREGATES_AND_WINDOWS = """
    any_value approx_count_distinct approx_quantile approx_top_k arbitrary arg_max arg_max_null
    arg_max_nulls_last arg_min arg_min_null arg_min_nulls_last argmax argmin array_agg avg
    bit_and bit_or bit_xor bool_and bool_or corr count count_if count_star countif covar_pop
    covar_samp cume_dist dense_rank entropy favg fill first first_value fsum geomean
    geometric_mean group_concat histogram histogram_exact json_group_array json_group_object
    kahan_sum kurtosis kurtosis_pop lag last last_value lead list listagg mad max max_by mean
    median min min_by mode nth_value ntile percent_rank product quantile quantile_cont
    quantile_disc rank rank_dense regr_avgx regr_avgy regr_count regr_intercept regr_r2
    regr_slope regr_sxx regr_sxy regr_syy reservoir_quantile row_number sem skewness stddev
    stddev_pop stddev_samp string_agg sum sumkahan var_pop var_samp variance wavg weighted_avg
"""

SCALAR_AND_AGGREGATE = _names(
    _ARITHMETIC + _TEXT + _DATES + _CONDITIONAL_AND_TYPES + _LISTS_STRUCTS_MAPS + _JSON_VALUES + _AGGREGATES_AND_WINDOWS
)

# Functions that build a value as large as their arguments ask for in one call, which
# neither DuckDB's memory limit nor an interrupt can stop (`unnest(generate_series(1,
# 500000000))` took 4.9 GiB): only with constant sizes up to MAX_VALUE_ELEMENTS. In FROM,
# range/generate_series stream rows and the time limit bounds them.
SIZED_BY_ARGUMENTS = _names("range generate_series repeat list_resize array_resize")
MAX_VALUE_ELEMENTS = 1_000_000

# Functions allowed in FROM: they generate rows from their arguments, nothing else.
TABLE_FUNCTIONS = _names("range generate_series unnest")


def is_allowed_function(name: str) -> bool:
    name = name.lower()
    return name in SCALAR_AND_AGGREGATE or name in OPERATORS
