//! The one integration-test binary of mamori-checklist: shipped editions, answers, the
//! evaluator on fixture facts, and real XLSX workbooks generated here, imported and exported.

mod answers;
mod answers_import;
mod editions;
mod export;
mod import;
mod pdf;
mod rules;

use mamori_checklist::Edition;

pub fn fy2024() -> &'static Edition {
    mamori_checklist::builtin_edition(2024).expect("FY2024 is shipped")
}

pub fn fy2025() -> &'static Edition {
    mamori_checklist::builtin_edition(2025).expect("FY2025 is shipped")
}
