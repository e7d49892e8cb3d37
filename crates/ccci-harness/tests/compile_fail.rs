//! A wrong test signature is a compile error that says what is valid (trybuild cases in ui/).

#[test]
fn wrong_signatures_are_compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
