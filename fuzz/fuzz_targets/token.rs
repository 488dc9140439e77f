//! The token parser: any text is a token refused or verified, never a
//! panic, and only a MAC made with the key verifies.
#![no_main]

const KEY: [u8; 32] = [7; 32];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(claims) = mosaic::auth::token::verify(&text, |_| Some(KEY.to_vec())) {
        // Only what `sign` made with KEY verifies; it signs the same again.
        assert_eq!(mosaic::auth::token::sign(&claims, &KEY), text);
    }
});
