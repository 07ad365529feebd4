//! Comparing wording across sources: the reference texts come from OCR, and the official
//! forms mix full- and half-width punctuation, so wording is compared after Unicode NFKC
//! normalisation with every whitespace character removed.

use unicode_normalization::UnicodeNormalization;

/// NFKC, without whitespace: 「リモートメンテナンス（保守）」 and 「リモートメンテナンス (保守)」 compare equal.
pub fn wording_key(text: &str) -> String {
    text.nfkc().filter(|c| !c.is_whitespace()).collect()
}

/// Whether two wordings are the same after normalisation.
pub fn same_wording(a: &str, b: &str) -> bool {
    wording_key(a) == wording_key(b)
}

/// NFKC with whitespace runs collapsed to one space and trimmed: for cells read from a
/// workbook, where line breaks and doubled spaces are layout, not wording.
pub fn clean_cell(text: &str) -> String {
    let nfkc: String = text.nfkc().collect();
    nfkc.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_half_width_and_spaces_compare_equal() {
        assert!(same_wording("リモートメンテナンス（保守）を利用", "リモートメンテナンス (保守)を利用"));
        assert!(same_wording("端末 PC", "端末PC"));
        assert!(!same_wording("パスワードの使い回しを禁止している。", "パスワードを変更している。"));
        assert_eq!(clean_cell(" 1　体制構築\n"), "1 体制構築");
    }
}
