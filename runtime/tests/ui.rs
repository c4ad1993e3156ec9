//! Every table-map rule that dual-write checks when a map is saved is a compile error here, with the
//! message and span checked in (`tests/ui/*.stderr`; regenerate with `TRYBUILD=overwrite`).

#[test]
fn table_map_rules_are_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/compiles.rs");
    for case in [
        "unknown_column",
        "types_do_not_convert",
        "key_not_both_ways",
        "no_key",
        "duplicate_destination",
        "read_only_destination",
        "required_left_unmapped",
        "value_map_not_total",
        "value_map_not_total_back",
        "bad_filter_and_attributes",
    ] {
        cases.compile_fail(format!("tests/ui/{case}.rs"));
    }
}
