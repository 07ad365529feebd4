use crate::{fy2024, fy2025};
use mamori_checklist::answer::{CarriedFrom, DeadlineKind, Override, rollup};
use mamori_checklist::{Answer, AnswerValue, ProposedValue, carry_over, progress, validate_answer, validate_answers};
use time::macros::date;

fn code(a: &Answer) -> &'static str {
    match validate_answer(fy2025(), "clinic", a) {
        Ok(()) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn answers_follow_the_form_rules() {
    let yes = |id: &str, class: Option<&str>| Answer::new(id, class, AnswerValue::Yes).confirmed(date!(2025 - 06 - 01));
    let no = |id: &str| Answer::new(id, None, AnswerValue::No).confirmed(date!(2025 - 06 - 01));

    assert_eq!(code(&yes("2-①", None)), "ok");
    assert_eq!(code(&Answer::new("2-①", None, AnswerValue::Unanswered)), "ok");
    assert_eq!(code(&yes("2-⑭", None)), "checklist-unknown-item");
    assert_eq!(code(&yes("2-①", Some("server"))), "checklist-device-class-not-asked");
    assert_eq!(code(&yes("2-⑬", Some("server"))), "checklist-device-class-not-asked");
    assert_eq!(code(&yes("2-⑬", None)), "checklist-device-class-required");
    assert_eq!(code(&yes("2-⑬", Some("network_device"))), "ok");
    assert_eq!(code(&Answer::new("2-①", None, AnswerValue::Yes)), "checklist-confirmed-date-required");
    assert_eq!(code(&no("2-①")), "checklist-target-date-required");
    assert_eq!(code(&no("2-①").target(date!(2026 - 03 - 31))), "ok");
    assert_eq!(code(&no("2-①").target(date!(2026 - 04 - 01))), "checklist-target-date-outside-fiscal-year");
    assert_eq!(code(&no("2-①").target(date!(2025 - 03 - 31))), "checklist-target-date-outside-fiscal-year");
    assert_eq!(code(&no("2-①").target(date!(2025 - 05 - 01))), "checklist-target-date-before-confirmed");
    // 二要素認証 may aim at 令和9年度.
    assert_eq!(code(&no("2-⑩").target(date!(2027 - 12 - 01))), "ok");
    assert_eq!(code(&no("2-⑩").target(date!(2028 - 04 - 01))), "checklist-target-date-outside-fiscal-year");

    let mut overridden = yes("2-①", None);
    overridden.overridden = Some(Override { by: "事務長".into(), reason: " ".into(), proposed: ProposedValue::No });
    assert_eq!(code(&overridden), "checklist-override-reason-required");
    overridden.overridden.as_mut().unwrap().reason = "台帳は紙で更新済み".into();
    assert_eq!(code(&overridden), "ok");

    let mut long = yes("2-①", None);
    long.note = Some("あ".repeat(2001));
    assert_eq!(code(&long), "checklist-note-too-long");

    let err = validate_answer(fy2025(), "dentist", &yes("2-①", None)).unwrap_err();
    assert_eq!(err.code(), "checklist-unknown-form");

    let err = validate_answers(fy2025(), "clinic", &[yes("2-①", None), yes("2-①", None)]).unwrap_err();
    assert_eq!(err.code(), "checklist-duplicate-answer");
    let msg = validate_answer(fy2025(), "clinic", &no("2-①").target(date!(2026 - 04 - 01))).unwrap_err().to_string();
    assert!(msg.contains("2-①") && msg.contains("2026-03-31") && msg.contains("令和7年度中"), "{msg}");
}

#[test]
fn rollup_needs_every_class() {
    use AnswerValue::*;
    assert_eq!(rollup([Yes, Yes]), Yes);
    assert_eq!(rollup([Yes, Unanswered]), Unanswered);
    assert_eq!(rollup([Yes, No, Unanswered]), No);
    assert_eq!(rollup([]), Unanswered);
}

#[test]
fn carry_over_maps_moved_ids_and_drops_dates() {
    let d = date!(2024 - 06 - 01);
    let mut previous = vec![
        Answer::new("1-(1)", None, AnswerValue::Yes).confirmed(d),
        // patches: asked per class in R6, once in R7 (2-⑥)
        Answer::new("2-(7)", Some("server"), AnswerValue::Yes).confirmed(d),
        Answer::new("2-(7)", Some("terminal_pc"), AnswerValue::No).confirmed(d).target(date!(2025 - 03 - 01)),
        Answer::new("2-(7)", Some("network_device"), AnswerValue::Yes).confirmed(d),
        // source restriction: same class both years, id moved 2-(8) -> 2-⑬
        Answer::new("2-(8)", Some("network_device"), AnswerValue::Yes).confirmed(d),
        // access rights: per class both years
        Answer::new("2-(4)", Some("server"), AnswerValue::Yes).confirmed(d),
    ];
    previous[0].note = Some("院長が兼任".into());
    let out = carry_over(fy2024(), "clinic", &previous, fy2025(), "clinic").unwrap();

    let get = |id: &str, class: Option<&str>| {
        out.answers.iter().find(|a| a.item_id == id && a.device_class.as_deref() == class).unwrap()
    };
    let officer = get("1-①", None);
    assert_eq!(officer.value, AnswerValue::Yes);
    assert_eq!(officer.confirmed_on, None);
    assert_eq!(officer.note.as_deref(), Some("院長が兼任"));
    assert_eq!(officer.carried_from, Some(CarriedFrom { edition_id: "fy2024".into(), item_id: "1-(1)".into() }));
    let patches = get("2-⑥", None);
    assert_eq!(patches.value, AnswerValue::No, "one いいえ among the classes rolls up to いいえ");
    assert_eq!(patches.target_date, None);
    assert_eq!(get("2-⑬", Some("network_device")).value, AnswerValue::Yes);
    assert_eq!(get("2-④", Some("server")).value, AnswerValue::Yes);
    assert_eq!(get("2-④", Some("terminal_pc")).value, AnswerValue::Unanswered);
    // New R7 items start unanswered.
    assert_eq!(get("2-⑦", None).value, AnswerValue::Unanswered);
    assert!(out.new_items.contains(&"2-⑦".to_owned()) && out.new_items.contains(&"4-①".to_owned()));
    assert!(out.matched.contains(&("2-(7)".into(), "2-⑥".into())));
    assert!(out.matched.contains(&("2-(8)".into(), "2-⑬".into())));
    assert!(out.dropped.is_empty(), "{:?}", out.dropped);
    // Every slot of the new form is present once.
    let slots: usize = fy2025().form("clinic").unwrap().items().map(|i| i.answer_slots().len()).sum();
    assert_eq!(out.answers.len(), slots);
}

#[test]
fn progress_counts_slots_and_lists_near_deadlines() {
    let e = fy2025();
    let d = date!(2025 - 06 - 01);
    let answers = vec![
        Answer::new("1-①", None, AnswerValue::Yes).confirmed(d),
        Answer::new("2-①", None, AnswerValue::No).confirmed(d).target(date!(2025 - 07 - 15)),
        Answer::new("2-⑫", Some("server"), AnswerValue::Yes).confirmed(d),
    ];
    let p = progress(e, "clinic", &answers, date!(2025 - 07 - 01), 30).unwrap();
    let s1 = p.sections.iter().find(|s| s.no.as_deref() == Some("1")).unwrap();
    assert_eq!((s1.title.as_str(), s1.counts.yes, s1.counts.unanswered), ("1 体制構築", 1, 0));
    let s2 = p.sections.iter().find(|s| s.no.as_deref() == Some("2")).unwrap();
    assert_eq!((s2.counts.yes, s2.counts.no), (1, 1));
    assert_eq!(s2.counts.total(), 16, "13 items; 2-④ 2-⑤ 2-⑫ take 2 rows each");
    assert_eq!(p.total.total(), 1 + 1 + 16 + 3 + 1);
    assert_eq!(p.deadlines.len(), 1);
    assert_eq!(p.deadlines[0].item_id, "2-①");
    assert_eq!(p.deadlines[0].kind, DeadlineKind::TargetDate);
    assert_eq!(p.deadlines[0].days_left, 14);
    // Near the end of the year every open item shows its deadline.
    let late = progress(e, "clinic", &answers, date!(2026 - 03 - 20), 30).unwrap();
    assert!(
        late.deadlines.iter().any(|d| d.item_id == "3-②" && d.kind == DeadlineKind::ItemDeadline && d.days_left == 11)
    );
    assert!(!late.deadlines.iter().any(|d| d.item_id == "2-⑩"), "二要素認証 is due in 令和9年度");
    assert!(p.unconfirmed_wording >= 9);

    // 医療情報システムの有無 = いいえ: the rest is 確認不要.
    let none = vec![Answer::new("有無", None, AnswerValue::No).confirmed(d).target(date!(2025 - 12 - 01))];
    let p = progress(fy2024(), "clinic", &none, date!(2024 - 07 - 01), 0).unwrap();
    assert_eq!(p.total.no, 1);
    assert_eq!(p.total.unanswered, 0);
    assert!(p.total.not_required > 10);
}
