//! Fuzz target `process_output`: see fuzz/checks.rs for what it checks.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::process_output(data));
