//! A frame after the startup: the checks before pgwire, then pgwire's
//! decoder on what they pass. No input may panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mosaic::wire::screen::exercise(data);
});
