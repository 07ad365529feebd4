use mamori_ledger::read::{Encoding, Limits, read_file};

use crate::xlsx::clinic_workbook;

/// xorshift64*: deterministic, so a failure reproduces from its case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Up to `max - 1` random bytes.
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn read_file_never_panics() {
    let xlsx = clinic_workbook();
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("機器名,IPアドレス\n受付PC,\"192.168.1.1\"\n");
    let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let limits = Limits { max_rows: 10_000, max_bytes: 1 << 20 };
    let mut rng = Rng(0x6d61_6d6f_7269);
    let mut outcomes = [0usize; 2];
    for case in 0..2000 {
        let input = match case % 5 {
            0 => rng.bytes(512),
            1 => xlsx[..rng.below(xlsx.len())].to_vec(),
            2 => {
                let mut b = xlsx.clone();
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(b.len());
                    b[i] = rng.next() as u8;
                }
                b
            }
            3 => {
                let mut b = sjis.to_vec();
                let i = rng.below(b.len());
                b.splice(i..i, rng.bytes(6));
                b
            }
            _ => {
                let mut b = ole.to_vec();
                b.extend(rng.bytes(2048));
                b
            }
        };
        let enc = [Encoding::Auto, Encoding::Utf8, Encoding::ShiftJis][case % 3];
        let result = read_file(&input, "fuzz.csv", enc, &limits);
        if let Err(e) = &result {
            assert!(!e.code().is_empty(), "case {case}");
        }
        outcomes[usize::from(result.is_ok())] += 1;
    }
    // Both paths were exercised: some inputs read, some were refused.
    assert!(outcomes[0] > 100 && outcomes[1] > 100, "{outcomes:?}");
}
