//! Every table-map mistake is a compile error here, with the message and span checked in
//! (`tests/ui/*.stderr`; regenerate with `TRYBUILD=overwrite` and read every change).

#[test]
fn table_map_rules_are_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/compiles.rs");
    for case in [
        // Mistakes dual-write reports when a map is saved.
        "unknown_column",
        "types_do_not_convert",
        "key_not_both_ways",
        "no_key",
        "duplicate_destination",
        "read_only_destination",
        "required_left_unmapped",
        "value_map_not_total",
        "value_map_not_total_back",
        "value_map_unknown_member",
        "bad_filter_and_attributes",
        "filter_syntax",
        "filter_unknown_column",
        "default_does_not_fit",
        "lookup_not_a_lookup",
        "lookup_key_path",
        "lookup_without_lookup",
        "lookup_through_tables",
        "null_into_not_null",
        "lossy",
        "company",
        "not_an_entity",
        // Enums and option sets.
        "choice_without_fallback",
    ] {
        cases.compile_fail(format!("tests/ui/{case}.rs"));
    }
}
