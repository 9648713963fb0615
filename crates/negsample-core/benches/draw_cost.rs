//! Where the time of one popularity draw goes, and what a cheaper random
//! generator would buy: the measurement behind BENCHMARKS.md's "What bounds
//! the missed target". x86-64 with AVX-512 (F, DQ) and VAES only.
//!
//! For each table size (`NEGSAMPLE_SIZES`, default 10^3, 10^5 and 10^6
//! items; popularity^0.75 weights) it times 10^6 draws of:
//!
//! - the engine's AVX-512 kernel on the table, and on a uniform table of the
//!   same size (the same loop without the table read);
//! - that kernel's loop, rebuilt here from its own step functions
//!   (`kernel::x86`), with the random words made another way:
//!   SplitMix64 (the engine's generator; its output is first checked equal to
//!   the engine's), AES rounds on the counter (ARS, Salmon et al., "Parallel
//!   random numbers: as easy as 1, 2, 3", SC 2011; ARS-5 is the
//!   configuration Intel MKL ships; here with a simpler Weyl key schedule,
//!   which costs the same), and the bare counter (no mixing: the bound), each
//!   with and without the table read.
//!
//! Only the SplitMix64 rows are draws the engine could return; the others are
//! timings of a loop, not samplers.
//!
//! `cargo run --release -p negsample-core --example draw_cost`

#[cfg(target_arch = "x86_64")]
mod lab {
    use negsample_core::probe::{
        mix64_avx512, pick_digests_avx512, product_avx512, split_products_avx512, GAMMA, MIX64_M1,
        MIX64_M2,
    };
    use negsample_core::{
        fill_picks_with, AliasTable, CompactSlots, Domain, Kernel, Stream, BLOCK,
    };
    use std::arch::x86_64::*;
    use std::time::Instant;

    const DRAWS: usize = 1_000_000;

    /// How a lane's random word is made from its counter `x`.
    #[derive(Clone, Copy, PartialEq)]
    enum Generator {
        SplitMix64,
        /// `r` AES rounds on the counter, round key `j` being `key + j * GAMMA`
        /// in both 64-bit halves (ARS-r's structure and cost).
        Ars(u32),
        /// The counter itself.
        Counter,
    }

    impl Generator {
        fn name(self) -> String {
            match self {
                Generator::SplitMix64 => "SplitMix64 (the engine's)".into(),
                Generator::Ars(r) => format!("ARS-{r} (AES rounds)"),
                Generator::Counter => "bare counter (no mixing)".into(),
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq,vaes")]
    fn word(x: __m512i, generator: Generator, keys: &[__m512i; 6]) -> __m512i {
        match generator {
            Generator::SplitMix64 => mix64_avx512(
                x,
                _mm512_set1_epi64(MIX64_M1 as i64),
                _mm512_set1_epi64(MIX64_M2 as i64),
            ),
            Generator::Ars(rounds) => {
                let mut c = _mm512_xor_si512(x, keys[0]);
                for key in &keys[1..rounds as usize] {
                    c = _mm512_aesenc_epi128(c, *key);
                }
                _mm512_aesenclast_epi128(c, keys[rounds as usize])
            }
            Generator::Counter => x,
        }
    }

    /// The engine's AVX-512 digest loop (`fill_picks_compact_avx512` in
    /// kernel/x86.rs, whose step functions it calls) with `generator`'s
    /// words, over one block's counters `0..BLOCK`. Returns, per step of 16
    /// draws, whether the digests could not decide it (only with the table
    /// read).
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, DQ and VAES.
    #[target_feature(enable = "avx512f,avx512dq,vaes")]
    unsafe fn draw_loop(
        compact: &CompactSlots,
        n: u32,
        key: u64,
        generator: Generator,
        read_table: bool,
        out: &mut [u32],
    ) -> [bool; BLOCK / 16] {
        assert_eq!(out.len(), BLOCK);
        let weyl = _mm512_set1_epi64(GAMMA as i64);
        let mut keys = [_mm512_set1_epi64(key as i64); 6];
        for r in 1..keys.len() {
            keys[r] = _mm512_add_epi64(keys[r - 1], weyl);
        }
        let nv = _mm512_set1_epi64(i64::from(n));
        let digests = compact.digests().as_ptr();
        let alias_mask = _mm512_set1_epi32(compact.alias_mask() as i32);
        let x0 = |lane: u64| key.wrapping_add((1 + lane).wrapping_mul(GAMMA)) as i64;
        let lanes = |from: u64| {
            _mm512_setr_epi64(
                x0(from),
                x0(from + 1),
                x0(from + 2),
                x0(from + 3),
                x0(from + 4),
                x0(from + 5),
                x0(from + 6),
                x0(from + 7),
            )
        };
        let (mut xa, mut xb) = (lanes(0), lanes(8));
        let advance = _mm512_set1_epi64(GAMMA.wrapping_mul(16) as i64);
        let every_lane: __mmask16 = std::hint::black_box(0xFFFF);
        let mut undecided = [false; BLOCK / 16];
        for (step, chunk) in out.chunks_exact_mut(16).enumerate() {
            let ma = product_avx512(word(xa, generator, &keys), nv);
            let mb = product_avx512(word(xb, generator, &keys), nv);
            xa = _mm512_add_epi64(xa, advance);
            xb = _mm512_add_epi64(xb, advance);
            let (slot, coin) = split_products_avx512(ma, mb);
            let items = if read_table {
                // SAFETY: every slot is below n = the number of digests.
                let (items, open) =
                    unsafe { pick_digests_avx512(slot, coin, digests, alias_mask, every_lane) };
                undecided[step] = open != 0;
                items
            } else {
                slot
            };
            // SAFETY: the chunk holds exactly 16 u32.
            unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().cast(), items) };
        }
        undecided
    }

    /// A timed loop: its label and one run over `out`.
    type Variant<'a> = (String, Box<dyn FnMut(&mut [u32]) + 'a>);

    /// Times every variant in ROUNDS alternating rounds (each round runs
    /// each variant once, so a slow spell of the machine hits them all) and
    /// prints the fastest and the median round of each, in ns per draw, with
    /// the first variant's fastest over each one's fastest.
    fn time_alternating(variants: &mut [Variant], out: &mut [u32]) {
        const ROUNDS: usize = 41;
        let mut seconds = vec![Vec::with_capacity(ROUNDS); variants.len()];
        for round in 0..=ROUNDS {
            for ((_, run), times) in variants.iter_mut().zip(&mut seconds) {
                let start = Instant::now();
                run(out);
                if round > 0 {
                    // Round 0 is a warm-up.
                    times.push(start.elapsed().as_secs_f64());
                }
            }
        }
        let per_draw = |s: f64| s * 1e9 / out.len() as f64;
        let mut reference = None;
        for ((label, _), times) in variants.iter().zip(&mut seconds) {
            times.sort_by(f64::total_cmp);
            let (fastest, median) = (per_draw(times[0]), per_draw(times[ROUNDS / 2]));
            let reference = *reference.get_or_insert(fastest);
            println!(
                "  {label:46} {fastest:6.3} ns/draw ({:5.0} M/s), median {median:6.3}  {:5.2}x",
                1e3 / fastest,
                reference / fastest
            );
        }
    }

    pub fn main() {
        if !(is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("vaes"))
        {
            println!("draw_cost needs AVX-512 (F, DQ) and VAES; this CPU lacks one of them");
            return;
        }
        let sizes: Vec<usize> = std::env::var("NEGSAMPLE_SIZES")
            .map(|v| v.split(',').map(|x| x.trim().parse().unwrap()).collect())
            .unwrap_or_else(|_| vec![1_000, 100_000, 1_000_000]);
        let blocks = DRAWS / BLOCK;
        let streams: Vec<Stream> = (0..blocks as u64)
            .map(|b| Stream::new(1, Domain::Negatives, 0, b))
            .collect();
        let streams = &streams;
        let mut out = vec![0u32; blocks * BLOCK];
        for n in sizes {
            let weights: Vec<f64> = (0..n)
                .map(|i| (1e6 / (i as f64 + 1.0)).powf(0.75))
                .collect();
            let table = AliasTable::from_weights(&weights).unwrap();
            let uniform = AliasTable::uniform(n).unwrap();
            let Some(compact) = table.compact() else {
                println!("n={n}: no digests (more than 2^20 - 1 items); skipped");
                continue;
            };
            let engine = |table: &AliasTable, out: &mut [u32]| {
                for (stream, block) in streams.iter().zip(out.chunks_mut(BLOCK)) {
                    fill_picks_with(Kernel::Avx512, table, stream, 0, block);
                }
            };
            // The copy with SplitMix64 must give the engine's draws.
            let mut expected = vec![0u32; out.len()];
            engine(&table, &mut expected);
            for (stream, block) in streams.iter().zip(out.chunks_mut(BLOCK)) {
                // SAFETY: AVX-512 F, DQ and VAES were detected above.
                let open = unsafe {
                    draw_loop(
                        compact,
                        n as u32,
                        stream.key(),
                        Generator::SplitMix64,
                        true,
                        block,
                    )
                };
                for (step, _) in open.iter().enumerate().filter(|(_, &open)| open) {
                    let first = step * 16;
                    for (i, item) in block[first..first + 16].iter_mut().enumerate() {
                        *item = table.pick(stream.word((first + i) as u64));
                    }
                }
            }
            assert!(
                out == expected,
                "the copy of the loop does not give the engine's draws"
            );

            let engine = &engine;
            let mut variants: Vec<Variant> = vec![
                (
                    "engine kernel (AVX-512, digests)".into(),
                    Box::new(|out: &mut [u32]| engine(&table, out)),
                ),
                (
                    "engine kernel, uniform table (no table read)".into(),
                    Box::new(|out: &mut [u32]| engine(&uniform, out)),
                ),
            ];
            for generator in [
                Generator::SplitMix64,
                Generator::Ars(5),
                Generator::Ars(3),
                Generator::Ars(2),
                Generator::Counter,
            ] {
                for read_table in [true, false] {
                    let read = if read_table { "" } else { ", no table read" };
                    variants.push((
                        format!("{}{read}", generator.name()),
                        Box::new(move |out: &mut [u32]| {
                            for (stream, block) in streams.iter().zip(out.chunks_mut(BLOCK)) {
                                // SAFETY: AVX-512 F, DQ and VAES were detected above.
                                std::hint::black_box(unsafe {
                                    draw_loop(
                                        compact,
                                        n as u32,
                                        stream.key(),
                                        generator,
                                        read_table,
                                        block,
                                    )
                                });
                            }
                        }),
                    ));
                }
            }
            println!(
                "popularity^0.75, {n} items, {} draws a run: fastest of 41 alternating rounds, \
                 median, and the engine kernel's fastest over each one's",
                out.len()
            );
            time_alternating(&mut variants, &mut out);
        }
    }
}

fn main() {
    #[cfg(target_arch = "x86_64")]
    lab::main();
    #[cfg(not(target_arch = "x86_64"))]
    println!("draw_cost measures the x86-64 AVX-512 kernel; this is not x86-64");
}
