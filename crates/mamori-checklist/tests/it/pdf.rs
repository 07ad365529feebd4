//! The PDF export, checked the way a person would: poppler turns it into text (with word
//! positions) and into PNG pages, and pdffonts shows what is embedded. The files stay in
//! `target/tmp/pdf-*` for a look. poppler-utils is required: without it these tests fail.

use crate::fy2025;
use mamori_checklist::answer::Override;
use mamori_checklist::evaluate::{Document, DocumentKind};
use mamori_checklist::pdf::FONT_PACKAGE;
use mamori_checklist::{
    Answer, AnswerValue, Evaluator, EvidenceKind, EvidenceRef, Facts, FontSource, ProposedValue, export_pdf,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use time::macros::{date, datetime};

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pdf-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a poppler tool; its absence is a failure naming the package, never a skip.
fn poppler(tool: &str, args: &[&str]) -> String {
    let out = match Command::new(tool).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "{tool} is missing: install the Debian package poppler-utils \
             (apt-get install -y --no-install-recommends poppler-utils)"
        ),
        Err(e) => panic!("{tool} could not run: {e}"),
    };
    assert!(out.status.success(), "{tool} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[derive(Debug)]
struct Word {
    page: usize,
    x_min: f32,
    y_min: f32,
    x_max: f32,
    y_max: f32,
    text: String,
}

impl Word {
    fn y_mid(&self) -> f32 {
        (self.y_min + self.y_max) / 2.0
    }
    fn x_mid(&self) -> f32 {
        (self.x_min + self.x_max) / 2.0
    }
}

fn attr(tag: &str, name: &str) -> f32 {
    let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    tag[start..].split('"').next().unwrap().parse().unwrap()
}

/// Words with their boxes, from `pdftotext -bbox`; and the page size.
fn words(pdf: &Path) -> (Vec<Word>, (f32, f32)) {
    let html = poppler("pdftotext", &["-bbox", pdf.to_str().unwrap(), "-"]);
    let mut words = Vec::new();
    let mut page = 0;
    let mut size = (0.0, 0.0);
    for line in html.lines().map(str::trim) {
        if line.starts_with("<page ") {
            page += 1;
            size = (attr(line, "width"), attr(line, "height"));
        } else if let Some(rest) = line.strip_prefix("<word ") {
            let (tag, text) = rest.split_once('>').unwrap();
            words.push(Word {
                page,
                x_min: attr(tag, "xMin"),
                y_min: attr(tag, "yMin"),
                x_max: attr(tag, "xMax"),
                y_max: attr(tag, "yMax"),
                text: text.trim_end_matches("</word>").replace("&amp;", "&"),
            });
        }
    }
    (words, size)
}

fn render(name: &str, bytes: &[u8]) -> (PathBuf, String) {
    let dir = out_dir(name);
    let pdf = dir.join("checklist.pdf");
    std::fs::write(&pdf, bytes).unwrap();
    let text = poppler("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"]);
    std::fs::write(dir.join("checklist.txt"), &text).unwrap();
    (pdf, text)
}

fn page_count(pdf: &Path) -> usize {
    let info = poppler("pdfinfo", &[pdf.to_str().unwrap()]);
    let line = info.lines().find(|l| l.starts_with("Pages:")).unwrap();
    line["Pages:".len()..].trim().parse().unwrap()
}

/// No word may leave the page or run into the footer.
fn assert_inside_pages(words: &[Word], (width, height): (f32, f32)) {
    for w in words {
        assert!(w.x_min >= 20.0 && w.x_max <= width - 20.0, "off the page sideways: {w:?}");
        let footer = w.text.contains('/') || w.text.chars().all(|c| c.is_ascii_digit());
        if !footer {
            assert!(w.y_min >= 20.0 && w.y_max <= height - 38.0, "into the margin: {w:?}");
        }
    }
}

fn clinic_form() -> Vec<u8> {
    let e = fy2025();
    let mut facts = Facts::new(date!(2025 - 07 - 01));
    facts.documents.push(Document {
        id: "doc-bcp".into(),
        kind: DocumentKind::Bcp,
        title: "サイバー攻撃BCP".into(),
        reviewed_on: Some(date!(2025 - 05 - 20)),
        registered_at: Some(datetime!(2025-05-20 10:00 UTC)),
    });
    let evaluation = Evaluator::with_ledger_rules().evaluate(e, "clinic", &facts).unwrap();
    let mut officer = Answer::new("1-①", None, AnswerValue::Yes).confirmed(date!(2025 - 06 - 01));
    officer.overridden = Some(Override {
        by: "事務長".into(),
        reason: "院長を任命済み（辞令は紙）".into(),
        proposed: ProposedValue::No,
    });
    let mut ledger =
        Answer::new("2-①", None, AnswerValue::No).confirmed(date!(2025 - 06 - 02)).target(date!(2025 - 12 - 31));
    ledger.note = Some("台帳を作成中".into());
    ledger.evidence.push(
        EvidenceRef::new(EvidenceKind::File, "f1", "機器一覧.xlsx").observed(Some(datetime!(2025-06-01 09:00 UTC))),
    );
    let answers = vec![
        officer,
        ledger,
        Answer::new("2-⑤", Some("terminal_pc"), AnswerValue::Yes).confirmed(date!(2025 - 06 - 03)),
        Answer::new("3-③", None, AnswerValue::Yes).confirmed(date!(2025 - 06 - 04)),
    ];
    export_pdf(e, "clinic", "やまだ内科クリニック", &answers, Some(&evaluation), &FontSource::System)
        .unwrap_or_else(|e| panic!("{} ({})", e, e.code()))
}

#[test]
fn clinic_form_as_text_pages_and_fonts() {
    let bytes = clinic_form();
    assert!(bytes.starts_with(b"%PDF-1.7"));
    let (pdf, text) = render("clinic", &bytes);

    // What the reader sees first.
    assert!(text.contains("令和7年度版 医療機関におけるサイバーセキュリティ対策チェックリスト"), "{text}");
    assert!(text.contains("医療機関確認用"));
    assert!(text.contains("医療機関名：やまだ内科クリニック"));
    assert!(text.contains("各項目の実施状況を確認し"));
    for header in ["項目", "確認事項", "対象", "はい", "いいえ", "確認日", "目標日", "備考"] {
        assert!(text.contains(header), "header {header}");
    }
    // Items with their ids and wording, section headings, scope and printed notes.
    assert!(text.contains("1 体制構築"));
    assert!(text.contains("医療情報システム安全管理責任者を設置している。"));
    assert!(text.contains("医療情報システム全般"));
    assert!(text.contains("※二要素認証、または13文字以上の場合は定期的な変更は不要"));
    assert!(text.contains("運用管理規程等の整備"));
    // Dates and notes.
    for d in ["2025-06-01", "2025-06-02", "2025-12-31", "2025-06-03", "2025-06-04"] {
        assert!(text.contains(d), "date {d}");
    }
    assert!(text.contains("台帳を作成中"));
    // Wording that is not confirmed says so.
    assert!(text.contains("文言未確認（冒頭のみ確認）"));
    assert!(text.contains("文言未確認"));
    // The evidence appendix.
    assert!(text.contains("根拠一覧（各回答の根拠と観測日時）"));
    assert!(text.contains("事務長さんが提案（いいえ）を変更"));
    assert!(text.contains("機器一覧.xlsx"));
    assert!(text.contains("2025-06-01 18:00"), "observed time in JST");
    assert!(text.contains("サイバー攻撃BCP"));
    assert!(text.contains("（根拠の登録なし）"));
    assert!(text.contains("判定不可"));

    // The ○ sits in the right column on the item's row, and nowhere on an unanswered row.
    let (words, size) = words(&pdf);
    assert_inside_pages(&words, size);
    let first = |t: &str| words.iter().find(|w| w.text == t).unwrap_or_else(|| panic!("no word {t}"));
    let (yes, no) = (first("はい"), first("いいえ"));
    assert_eq!((yes.page, no.page), (1, 1));
    let column_of = |w: &Word| {
        if (w.x_mid() - yes.x_mid()).abs() < 10.0 {
            "はい"
        } else if (w.x_mid() - no.x_mid()).abs() < 10.0 {
            "いいえ"
        } else {
            "elsewhere"
        }
    };
    let marks_on_row_of = |id: &str| -> Vec<&str> {
        let item = first(id);
        words
            .iter()
            .filter(|w| w.text == "○" && w.page == item.page && (w.y_mid() - item.y_mid()).abs() < 4.0)
            .map(column_of)
            .collect()
    };
    assert_eq!(marks_on_row_of("1-①"), ["はい"]);
    assert_eq!(marks_on_row_of("2-①"), ["いいえ"]);
    assert_eq!(marks_on_row_of("2-②"), Vec::<&str>::new());
    assert_eq!(marks_on_row_of("3-③"), ["はい"]);
    // 2-⑤ is asked per device class: only the 端末PC row carries the mark.
    let item = first("2-⑤");
    let target = first("対象");
    let pc = words
        .iter()
        .filter(|w| w.text == "端末PC" && w.page == item.page && (w.x_min - target.x_min).abs() < 60.0)
        .filter(|w| w.y_mid() > item.y_mid() && w.y_mid() - item.y_mid() < 20.0)
        .min_by(|a, b| a.y_min.total_cmp(&b.y_min))
        .expect("the 端末PC row of 2-⑤");
    let pc_marks: Vec<&str> = words
        .iter()
        .filter(|w| w.text == "○" && w.page == pc.page && (w.y_mid() - pc.y_mid()).abs() < 4.0)
        .map(column_of)
        .collect();
    assert_eq!(pc_marks, ["はい"]);
    // The appendix starts on a page of its own, after the form.
    let appendix_page = words.iter().find(|w| w.text.starts_with("根拠一覧")).unwrap().page;
    assert!(appendix_page >= 2);

    // Pages: A4 landscape, numbered, a sensible count.
    assert!((size.0 - 841.89).abs() < 1.0 && (size.1 - 595.28).abs() < 1.0, "{size:?}");
    let pages = page_count(&pdf);
    assert!((3..=6).contains(&pages), "{pages} pages");
    assert!(text.contains(&format!("1 / {pages}")) && text.contains(&format!("{pages} / {pages}")));

    // The Japanese font is embedded, as a subset.
    let fonts = poppler("pdffonts", &[pdf.to_str().unwrap()]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 1, "{fonts}");
    let cols: Vec<&str> = rows[0].split_whitespace().collect();
    assert!(cols[0].len() > 7 && cols[0].as_bytes()[6] == b'+', "subset name: {fonts}");
    assert!(rows[0].contains("CID TrueType") && rows[0].contains("Identity-H"), "{fonts}");
    // name type... encoding emb sub uni object ID
    let n = cols.len();
    assert_eq!((cols[n - 5], cols[n - 4], cols[n - 3]), ("yes", "yes", "yes"), "emb sub uni: {fonts}");
    // A subset, not the 6 MB font.
    assert!(bytes.len() < 400_000, "{} bytes", bytes.len());

    // Every page renders.
    let prefix = pdf.with_file_name("page");
    poppler("pdftoppm", &["-png", "-r", "60", pdf.to_str().unwrap(), prefix.to_str().unwrap()]);
    let mut pngs: Vec<PathBuf> = std::fs::read_dir(pdf.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    pngs.sort();
    assert_eq!(pngs.len(), pages);
    for png in &pngs {
        let data = std::fs::read(png).unwrap();
        assert!(data.starts_with(b"\x89PNG") && data.len() > 5_000, "{} is blank?", png.display());
    }
}

#[test]
fn long_notes_wrap_and_continue_on_the_next_page() {
    let e = fy2025();
    let long: String = "院内の端末と電子カルテサーバの設定を業者と確認し、結果を記録する。".repeat(120);
    let mut a =
        Answer::new("2-①", None, AnswerValue::No).confirmed(date!(2025 - 06 - 02)).target(date!(2026 - 03 - 31));
    a.note = Some(format!("{long}ここまで"));
    let bytes = export_pdf(e, "clinic", "やまだ内科クリニック", &[a], None, &FontSource::System).unwrap();
    let (pdf, text) = render("long-note", &bytes);
    assert!(text.contains("ここまで"), "the end of the note is printed");
    let (words, size) = words(&pdf);
    assert_inside_pages(&words, size);
    let short = export_pdf(e, "clinic", "やまだ内科クリニック", &[], None, &FontSource::System).unwrap();
    let (short_pdf, _) = render("short", &short);
    assert!(page_count(&pdf) > page_count(&short_pdf));
}

#[test]
fn a_missing_font_names_the_package_to_install() {
    let err = export_pdf(fy2025(), "clinic", "x", &[], None, &FontSource::Path("/nonexistent/ipaexg.ttf".into()))
        .unwrap_err();
    assert_eq!(err.code(), "checklist-pdf-font-missing");
    assert!(err.to_string().contains(FONT_PACKAGE) && FONT_PACKAGE == "fonts-ipaexfont-gothic", "{err}");

    let err = export_pdf(fy2025(), "clinic", "x", &[], None, &FontSource::Data(b"not a font".to_vec())).unwrap_err();
    assert_eq!(err.code(), "checklist-pdf-font-unsupported");

    let err = export_pdf(fy2025(), "dentist", "x", &[], None, &FontSource::System).unwrap_err();
    assert_eq!(err.code(), "checklist-export-unknown-form");
}
