//! `cargo fuzz run open_file`: see `negsample_fuzz::open_file` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    negsample_fuzz::open_file(data);
});
