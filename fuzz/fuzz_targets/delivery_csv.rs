#![no_main]
// Runs stamp_domain::fuzzing::delivery_csv (the same checks replay fuzz/corpus/delivery_csv on stable).
libfuzzer_sys::fuzz_target!(|data: &[u8]| stamp_domain::fuzzing::delivery_csv(data));
