#![no_main]
// Runs stamp_domain::fuzzing::query (the same checks replay fuzz/corpus/query on stable).
libfuzzer_sys::fuzz_target!(|data: &[u8]| stamp_domain::fuzzing::query(data));
