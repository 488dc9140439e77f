//! The startup phase: SSL/GSS requests, the startup packet, the password
//! family and SASLInitialResponse. No input may panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mosaic::wire::screen::exercise_startup(data);
});
