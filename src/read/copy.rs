//! The copying reader's copy out of the ring: bytes that another agent may
//! write while they are copied, so no reference ever covers them.
//!
//! Two ways to copy, one meaning: the bytes are read by machine loads,
//! never through a reference, and the caller decides afterwards whether the
//! copy is intact
//! ([`Cursor::copy_and_release`](super::cursor::Cursor::copy_and_release)).
//! - [`copy_words`]: 8-byte volatile loads, on every target and under Miri.
//! - On x86-64 (not under Miri), assembly in the shapes glibc's `memcpy`
//!   takes: up to 56 bytes, two to four overlapping 16-byte moves; longer,
//!   with AVX, a loop of 32-byte loads and of stores aligned in the
//!   destination; from 2 KiB on, with fast `rep movsb` (ERMS), that
//!   instruction. The compiler cannot emit these shapes for volatile loads:
//!   a volatile 32-byte load must be aligned, so the stores straddle cache
//!   lines whenever the source and the buffer disagree modulo 32, and a
//!   1 KiB copy took twice memcpy's time.
//!
//! The assembly's loads are the machine's, as volatile loads are: they
//! create no reference and assert nothing about other agents' writes. In
//! the abstract machine they are a byte-wise copy, not a `&[u8]` read.

use std::ptr::NonNull;

/// Replaces `dst`'s contents with the `len` bytes at `src`, read by machine
/// loads (see the module docs), reusing `dst`'s buffer. The length is
/// stored once, after the copy.
///
/// # Safety
///
/// `src` is 8-aligned and readable for `round_up(len, 8)` initialised bytes
/// that do not overlap `dst`'s buffer: a record's payload, whose stride
/// covers that much (see
/// [`Cursor::copy_and_release`](super::cursor::Cursor::copy_and_release)).
#[inline(always)]
pub(crate) unsafe fn copy_volatile(src: NonNull<u8>, len: usize, dst: &mut Vec<u8>) {
    let words = len.div_ceil(8);
    if dst.capacity() < words * 8 {
        dst.clear();
        dst.reserve(words * 8);
    }
    // SAFETY: `src` is 8-aligned and readable for `words * 8` initialised
    // bytes that do not overlap the buffer (the contract); the buffer is
    // writable for as many (reserved above).
    unsafe { copy_raw(src, dst.as_mut_ptr(), words * 8) };
    // SAFETY: `len <= words * 8 <= capacity`, and the first `len` bytes
    // were just written.
    unsafe { dst.set_len(len) };
}

/// The copy of [`copy_volatile`], into raw memory.
///
/// # Safety
///
/// `src` is 8-aligned and readable for `len` initialised bytes, `len` is a
/// multiple of 8, and `to` is writable for `len` bytes that do not overlap
/// them.
#[inline(always)]
unsafe fn copy_raw(src: NonNull<u8>, to: *mut u8, len: usize) {
    debug_assert!(len.is_multiple_of(8));
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        if len < x86_64::LONG {
            // SAFETY: `len < LONG` and a multiple of 8, and the ranges are
            // as `x86_64::copy_short` needs (the contract).
            unsafe { x86_64::copy_short(src, to, len) };
            return;
        }
        if len >= x86_64::STRING && std::arch::is_x86_feature_detected!("ermsb") {
            // SAFETY: the ranges are as `x86_64::copy_string` needs (the
            // contract).
            unsafe { x86_64::copy_string(src, to, len) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: AVX is available (detected above), `len >= LONG`, and
            // the ranges are as `x86_64::copy_long` needs (the contract).
            unsafe { x86_64::copy_long(src, to, len) };
            return;
        }
    }
    // SAFETY: `src` is 8-aligned and readable for `len / 8` words, `to`
    // writable for as many bytes, not overlapping (the contract).
    unsafe { copy_words(src, to, len / 8) };
}

/// Copies `words` 8-byte words from `src` to `to` with volatile loads.
///
/// # Safety
///
/// `src` is 8-aligned and readable for `words * 8` bytes, which are
/// initialised; `to` is writable for `words * 8` bytes that do not overlap
/// them.
#[inline(always)]
unsafe fn copy_words(src: NonNull<u8>, to: *mut u8, words: usize) {
    let from = src.as_ptr().cast::<u64>();
    for i in 0..words {
        // SAFETY: `i < words`: the word is within the readable bytes.
        let word_at = unsafe { from.add(i) };
        // SAFETY: `word_at` is readable for 8 bytes (above), 8-aligned
        // (`src` is) and initialised (the contract). Volatile: another agent
        // may write them meanwhile.
        let word = unsafe { word_at.read_volatile() };
        // SAFETY: bytes `8 * i .. 8 * i + 8` are within the writable bytes.
        let out = unsafe { to.add(8 * i) };
        // SAFETY: `out` is writable for 8 bytes (above), not overlapping
        // the source; alignment 1 suffices for an unaligned write.
        unsafe { out.cast::<u64>().write_unaligned(word) };
    }
}

/// The x86-64 copies, in assembly (see the module docs).
#[cfg(all(target_arch = "x86_64", not(miri)))]
mod x86_64 {
    use std::arch::asm;
    use std::ptr::NonNull;

    /// The shortest copy [`copy_long`] takes, and the longest
    /// [`copy_short`] takes, plus 8.
    pub(super) const LONG: usize = 64;

    /// From this many bytes on, where the CPU has fast `rep movsb` (ERMS),
    /// [`copy_string`] copies. glibc's `memcpy` switches at 2112 bytes on
    /// CPUs with fast short `rep movsb`; on a cold ring, `rep movsb` copied
    /// a 2432-byte record 9% faster than [`copy_long`] (`bench_report`).
    pub(super) const STRING: usize = 2048;

    /// Copies `len` bytes from `src` to `to` with one `rep movsb`: each
    /// source byte is loaded once, each destination byte stored once, none
    /// outside the two ranges.
    ///
    /// # Safety
    ///
    /// `src` is readable for `len` initialised bytes; `to` is writable for
    /// `len` bytes that do not overlap them.
    #[inline(always)]
    pub(super) unsafe fn copy_string(src: NonNull<u8>, to: *mut u8, len: usize) {
        // SAFETY:
        // - `rep movsb` is in every x86-64 CPU (ERMS only makes it fast);
        //   the direction flag is clear on entry to an asm block (Rust's
        //   rules for inline assembly on x86), so it copies forwards:
        //   bytes `src .. src + len` to `to .. to + len`, which do not
        //   overlap (the contract). It changes only the three registers
        //   declared, and neither the flags nor the stack.
        // - Races: as in `copy_long`.
        unsafe {
            asm!(
                "rep movsb",
                inout("rcx") len => _,
                inout("rsi") src.as_ptr() => _,
                inout("rdi") to => _,
                options(nostack, preserves_flags),
            );
        }
    }

    /// Copies `len` bytes from `src` to `to` with at most four 16-byte
    /// moves (SSE2, which every x86-64 CPU has), or one 8-byte move: the
    /// first and the last bytes, overlapping in the middle. Each source
    /// byte is loaded once or twice, never one outside `src .. src + len`;
    /// each destination byte is stored once or twice, never one outside
    /// `to .. to + len`.
    ///
    /// # Safety
    ///
    /// `len < LONG` and is a multiple of 8; `src` is readable for `len`
    /// initialised bytes; `to` is writable for `len` bytes that do not
    /// overlap them.
    #[inline(always)]
    pub(super) unsafe fn copy_short(src: NonNull<u8>, to: *mut u8, len: usize) {
        debug_assert!(len < LONG && len.is_multiple_of(8));
        // SAFETY:
        // - The instructions are SSE2's and the base set's, which every
        //   x86-64 CPU has; the asm clobbers only the registers declared
        //   and does not touch the stack.
        // - Bounds: for `len` in 32..64, loads and stores at offsets 0, 16,
        //   `len - 32` and `len - 16`, 16 bytes each; in 16..32, at 0 and
        //   `len - 16`; for 8, 8 bytes at 0; for 0, none. So every access
        //   lies within `src .. src + len` or `to .. to + len`, which do
        //   not overlap (the contract).
        // - Races: as in `copy_long`.
        unsafe {
            asm!(
                "cmp {len}, 16",
                "jb 2f",
                "cmp {len}, 32",
                "jb 3f",
                "movdqu {a}, xmmword ptr [{src}]",
                "movdqu {b}, xmmword ptr [{src} + 16]",
                "movdqu {c}, xmmword ptr [{src} + {len} - 32]",
                "movdqu {d}, xmmword ptr [{src} + {len} - 16]",
                "movdqu xmmword ptr [{to}], {a}",
                "movdqu xmmword ptr [{to} + 16], {b}",
                "movdqu xmmword ptr [{to} + {len} - 32], {c}",
                "movdqu xmmword ptr [{to} + {len} - 16], {d}",
                "jmp 5f",
                "3:",
                "movdqu {a}, xmmword ptr [{src}]",
                "movdqu {b}, xmmword ptr [{src} + {len} - 16]",
                "movdqu xmmword ptr [{to}], {a}",
                "movdqu xmmword ptr [{to} + {len} - 16], {b}",
                "jmp 5f",
                "2:",
                "test {len}, {len}",
                "jz 5f",
                "mov {word}, qword ptr [{src}]",
                "mov qword ptr [{to}], {word}",
                "5:",
                src = in(reg) src.as_ptr(),
                to = in(reg) to,
                len = in(reg) len,
                word = out(reg) _,
                a = out(xmm_reg) _,
                b = out(xmm_reg) _,
                c = out(xmm_reg) _,
                d = out(xmm_reg) _,
                options(nostack),
            );
        }
    }

    /// Copies `len` bytes from `src` to `to`: the first and the last 32
    /// bytes with unaligned moves, and everything between them 32 bytes at
    /// a time, in fours, with stores aligned to 32 in `to`. Each source byte
    /// is loaded once or twice (the first and last 32 bytes overlap the
    /// loop's), and never a byte outside `src .. src + len`; each
    /// destination byte is stored once or twice, never one outside
    /// `to .. to + len`.
    ///
    /// # Safety
    ///
    /// The CPU supports AVX; `len >= LONG`; `src` is readable for `len`
    /// initialised bytes; `to` is writable for `len` bytes that do not
    /// overlap them.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn copy_long(src: NonNull<u8>, to: *mut u8, len: usize) {
        debug_assert!(len >= LONG);
        // SAFETY:
        // - The instructions: `vmovdqu` and `vmovdqa` need AVX (the caller's
        //   promise); `vmovdqa` stores at `to + r8`, with `r8` the bytes up
        //   to `to`'s next 32-aligned address plus multiples of 32, so they
        //   are aligned. The asm ends with `vzeroupper` (no AVX-to-SSE
        //   transition cost for the code after it), which zeroes the upper
        //   halves of every vector register, so it declares the C ABI's
        //   caller-saved registers (all vector registers among them)
        //   clobbered, besides the ones it names; it does not touch the
        //   stack.
        // - Bounds: every load is of 32 bytes at `src + k` with
        //   `0 <= k <= len - 32` (the loops run while `r8 + 32 <= len`,
        //   and `len >= 32` for the first and last moves), so within the
        //   readable bytes; likewise every store within `to .. to + len`.
        //   The two ranges do not overlap (the contract), so each loaded
        //   byte is the source's.
        // - Races: another agent (a producer, another consumer releasing
        //   the record) may write the source while it is copied. The loads
        //   are machine loads that create no reference, as the volatile
        //   loads of `copy_words` are; whether the copy is intact is
        //   decided by the caller after it, from the consumer position.
        //   The destination is the caller's own buffer, written by no one
        //   else meanwhile (it holds `&mut` to it).
        // - The asm is not `nomem`/`readonly`, so the compiler assumes it
        //   reads and writes memory: it is ordered with the caller's loads
        //   of the positions, before and after, as a call would be.
        unsafe {
            asm!(
                // The first and last 32 bytes, loaded before any store.
                "vmovdqu ymm4, ymmword ptr [{src}]",
                "vmovdqu ymm5, ymmword ptr [{src} + {len} - 32]",
                // `r8`, the offset: bytes up to `to`'s next 32-aligned
                // address (0..=31); `r9`, the next one.
                "mov r8, {to}",
                "neg r8",
                "and r8, 31",
                "2:",
                "lea r9, [r8 + 128]",
                "cmp r9, {len}",
                "ja 3f",
                "vmovdqu ymm0, ymmword ptr [{src} + r8]",
                "vmovdqu ymm1, ymmword ptr [{src} + r8 + 32]",
                "vmovdqu ymm2, ymmword ptr [{src} + r8 + 64]",
                "vmovdqu ymm3, ymmword ptr [{src} + r8 + 96]",
                "vmovdqa ymmword ptr [{to} + r8], ymm0",
                "vmovdqa ymmword ptr [{to} + r8 + 32], ymm1",
                "vmovdqa ymmword ptr [{to} + r8 + 64], ymm2",
                "vmovdqa ymmword ptr [{to} + r8 + 96], ymm3",
                "mov r8, r9",
                "jmp 2b",
                "3:",
                "lea r9, [r8 + 32]",
                "cmp r9, {len}",
                "ja 4f",
                "vmovdqu ymm0, ymmword ptr [{src} + r8]",
                "vmovdqa ymmword ptr [{to} + r8], ymm0",
                "mov r8, r9",
                "jmp 3b",
                "4:",
                // The head before `to`'s first aligned address, and the
                // tail after the loop's last store.
                "vmovdqu ymmword ptr [{to}], ymm4",
                "vmovdqu ymmword ptr [{to} + {len} - 32], ymm5",
                "vzeroupper",
                src = in(reg) src.as_ptr(),
                to = in(reg) to,
                len = in(reg) len,
                // Written before the last read of an input, so not `lateout`
                // (which `clobber_abi` is): no input may share them.
                out("r8") _,
                out("r9") _,
                out("ymm0") _,
                out("ymm1") _,
                out("ymm2") _,
                out("ymm3") _,
                out("ymm4") _,
                out("ymm5") _,
                clobber_abi("C"),
                options(nostack),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_payloads_of_every_length_exactly() {
        // 8-aligned, as a payload is, with room for the last word.
        let words: Vec<u64> = (0..64u64)
            .map(|i| u64::from_le_bytes(std::array::from_fn(|b| (8 * i + b as u64 + 1) as u8)))
            .collect();
        let src: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let base = NonNull::new(words.as_ptr().cast_mut().cast::<u8>()).unwrap();
        // At four 8-aligned offsets, so at each one modulo 32.
        for skip in 0..4 {
            let at = base.map_addr(|a| a.checked_add(8 * skip).unwrap());
            let src = &src[8 * skip..];
            for capacity in [0, 8, 24, 64, 128] {
                let mut dst = Vec::with_capacity(capacity);
                dst.extend_from_slice(&[0xAA; 7]);
                // Growing, then shrinking, over a buffer that held something
                // longer or shorter.
                for n in (0..=100).chain((0..=100).rev()).chain([300, 385, 480]) {
                    // SAFETY: `at` is 8-aligned and readable for
                    // `round_up(n, 8) <= 480` initialised bytes of `words`,
                    // another allocation than `dst`'s.
                    unsafe { copy_volatile(at, n, &mut dst) };
                    assert_eq!(dst, &src[..n], "{n} bytes over capacity {capacity}");
                }
            }
        }
    }

    /// A copy under test: its name, the lengths it takes, and the copy.
    type Copy = (
        &'static str,
        std::ops::RangeInclusive<usize>,
        unsafe fn(NonNull<u8>, *mut u8, usize),
    );

    /// [`copy_words`], over a length in bytes.
    ///
    /// # Safety
    ///
    /// As [`copy_words`], for `len / 8` words.
    unsafe fn words(src: NonNull<u8>, to: *mut u8, len: usize) {
        // SAFETY: the caller's promise.
        unsafe { copy_words(src, to, len / 8) }
    }

    /// Every copy this CPU can run, each on its own: the dispatch, and
    /// each shape it chooses from.
    fn copies() -> Vec<Copy> {
        #[cfg_attr(
            not(all(target_arch = "x86_64", not(miri))),
            expect(unused_mut, reason = "only x86-64 adds copies")
        )]
        let mut copies: Vec<Copy> = vec![
            ("dispatch", 0..=usize::MAX, copy_raw),
            ("words", 0..=usize::MAX, words),
        ];
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        {
            copies.push(("short", 0..=x86_64::LONG - 8, x86_64::copy_short));
            // Every x86-64 CPU has `rep movsb`; ERMS only makes it fast.
            copies.push(("string", 0..=usize::MAX, x86_64::copy_string));
            if std::arch::is_x86_feature_detected!("avx") {
                copies.push(("long", x86_64::LONG..=usize::MAX, x86_64::copy_long));
            } else {
                eprintln!("no AVX on this CPU: the AVX copy is not tested");
            }
        }
        copies
    }

    /// Each copy at every source and destination alignment near both ends
    /// of two pages that lie between inaccessible ones: a load or a store
    /// one byte out of bounds faults, and one within the page but outside
    /// the range is caught by the check that the rest stays zero.
    #[test]
    #[cfg_attr(miri, ignore = "mprotect is not supported under Miri")]
    fn each_copy_stays_within_both_ranges_at_every_alignment() {
        let guarded = Guarded::new();
        let page = guarded.page;
        // SAFETY: page 1 is read-write; nothing else references it.
        let src_page = unsafe { guarded.page_mut(1) };
        // SAFETY: page 3 is read-write; nothing else references it (page 1
        // is another page).
        let dst_page = unsafe { guarded.page_mut(3) };
        for (i, byte) in src_page.iter_mut().enumerate() {
            *byte = (i * 7 + 3) as u8;
        }
        let expected = src_page.to_vec();
        let src_base = NonNull::new(src_page.as_mut_ptr()).unwrap();
        let to_base = dst_page.as_mut_ptr();
        let lengths = (0..=300)
            .step_by(8)
            .chain([1024, 2040, 2048, 2056, 2432, page]);
        for (name, takes, copy) in copies() {
            for len in lengths.clone().filter(|len| takes.contains(len)) {
                // The source 8-aligned near both ends of its page; the
                // destination at each byte near both ends of its own.
                let src_ats = (0..=32).chain((page - len).saturating_sub(32)..=page - len);
                for src_at in src_ats.filter(|at| at % 8 == 0 && at + len <= page) {
                    let to_ats = (0..64).chain((page - len).saturating_sub(63)..=page - len);
                    for to_at in to_ats.filter(|at| at + len <= page) {
                        dst_page.fill(0);
                        // SAFETY: `src_at + len <= page`: within the source
                        // page.
                        let src = unsafe { src_base.add(src_at) };
                        // SAFETY: `to_at + len <= page`: within the
                        // destination page.
                        let to = unsafe { to_base.add(to_at) };
                        // SAFETY: `src` is 8-aligned and readable for `len`
                        // initialised bytes of the source page; `len` is a
                        // multiple of 8 that `copy` takes (and AVX is there
                        // for the AVX copy); `to` is writable for `len`
                        // bytes of the other page.
                        unsafe { copy(src, to, len) };
                        let at = format!("{name}: {len} bytes from {src_at} to {to_at}");
                        let copied = &dst_page[to_at..to_at + len];
                        assert_eq!(copied, &expected[src_at..src_at + len], "{at}");
                        assert!(dst_page[..to_at].iter().all(|&b| b == 0), "before, {at}");
                        let after = &dst_page[to_at + len..];
                        assert!(after.iter().all(|&b| b == 0), "after, {at}");
                    }
                }
            }
        }
    }

    /// Five pages: 0, 2 and 4 inaccessible, 1 and 3 read-write.
    struct Guarded {
        map: NonNull<u8>,
        page: usize,
    }

    impl Guarded {
        fn new() -> Self {
            // SAFETY: `sysconf` only reads a configuration value.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            let page = usize::try_from(page).expect("sysconf(_SC_PAGESIZE)");
            // SAFETY: an anonymous private mapping at an address the kernel
            // picks: no existing memory is affected.
            let map = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    5 * page,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            assert_ne!(
                map,
                libc::MAP_FAILED,
                "mmap: {}",
                std::io::Error::last_os_error()
            );
            let map = NonNull::new(map.cast::<u8>()).unwrap();
            for open in [1, 3] {
                // SAFETY: page `open` is within the five mapped pages.
                let at = unsafe { map.add(open * page) };
                // SAFETY: `at` is page-aligned and its page is ours (mapped
                // above), referenced by nothing yet.
                let rw = unsafe {
                    libc::mprotect(at.as_ptr().cast(), page, libc::PROT_READ | libc::PROT_WRITE)
                };
                assert_eq!(rw, 0, "mprotect: {}", std::io::Error::last_os_error());
            }
            Self { map, page }
        }

        /// # Safety
        ///
        /// `i` is 1 or 3, and no other reference to that page is alive.
        #[expect(
            clippy::mut_from_ref,
            reason = "the caller keeps the two pages' borrows apart"
        )]
        unsafe fn page_mut(&self, i: usize) -> &mut [u8] {
            // SAFETY: page `i` is within the mapping (the contract).
            let at = unsafe { self.map.add(i * self.page) };
            // SAFETY: the page is read-write and mapped while `self` lives,
            // and no other reference to it is alive (the contract).
            unsafe { std::slice::from_raw_parts_mut(at.as_ptr(), self.page) }
        }
    }

    impl Drop for Guarded {
        fn drop(&mut self) {
            // SAFETY: the five pages were mapped by `new`; the borrows of
            // `page_mut` end with `self`'s.
            let unmapped = unsafe { libc::munmap(self.map.as_ptr().cast(), 5 * self.page) };
            assert_eq!(unmapped, 0, "munmap: {}", std::io::Error::last_os_error());
        }
    }
}
