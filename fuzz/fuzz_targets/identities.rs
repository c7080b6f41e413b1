#![no_main]
// Runs stamp_domain::fuzzing::identities (the same checks replay fuzz/corpus/identities on stable).
libfuzzer_sys::fuzz_target!(|data: &[u8]| stamp_domain::fuzzing::identities(data));
