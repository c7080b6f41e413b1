#![no_main]
// Runs stamp_domain::fuzzing::delivery_json (the same checks replay fuzz/corpus/delivery_json on stable).
libfuzzer_sys::fuzz_target!(|data: &[u8]| stamp_domain::fuzzing::delivery_json(data));
