#![no_main]
// Runs stamp_domain::fuzzing::cursor (the same checks replay fuzz/corpus/cursor on stable).
libfuzzer_sys::fuzz_target!(|data: &[u8]| stamp_domain::fuzzing::cursor(data));
