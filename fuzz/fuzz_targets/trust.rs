#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| aoc_preflight_fuzz::trust(data));
