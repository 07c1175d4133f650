use super::*;

fn run() -> Pseudonyms {
    Pseudonyms::new([7; 32])
}

#[test]
fn kept_values_stay() {
    let mut p = run();
    for v in [
        "public",
        "publicInviteOnly",
        "premoderation",
        "gold",
        "yes",
        "FALSE",
        "12",
        "1,234.5",
        "2025-01-15 09:00:00.000",
        "Wed Jan 15 09:00:00 UTC 2025",
        "Blog",
        "Wikis",
        "Status Updates",
        "visibility",
        "text/html; charset=ISO-8859-1",
        "Community UUID",
        "Value in Blogs",
        "The community does not exist",
        "",
    ] {
        assert_eq!(p.judge(v, "x"), Verdict::Keep, "{v}");
    }
}

#[test]
fn uuids_stay_uuids_in_their_case() {
    let mut p = run();
    let u = "5a7c9e1b-0d2f-4a6b-8c1d-3e5f7a9b1c2d";
    let Verdict::Whole(a) = p.judge(u, "communityUuid") else {
        panic!()
    };
    assert_ne!(a, u);
    assert!(
        Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
            .unwrap()
            .is_match(&a)
    );
    assert_eq!(p.judge(u, "other"), Verdict::Whole(a.clone()));
    assert_eq!(
        p.judge(&u.to_uppercase(), "x"),
        Verdict::Whole(a.to_uppercase())
    );
    assert_ne!(Pseudonyms::new([8; 32]).uuid(u), a, "the key decides");
}

#[test]
fn names_and_emails_get_numbered_pseudonyms() {
    let mut p = run();
    let w = |v: Verdict| match v {
        Verdict::Whole(s) => s,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        w(p.judge("Agile Sales Team", "community name")),
        "Community 0001"
    );
    assert_eq!(w(p.judge("Amy Jones", "createdBy")), "Person 0001");
    assert_eq!(
        w(p.judge("Agile Sales Team", "createdBy")),
        "Community 0001"
    );
    assert_eq!(w(p.judge("Q3 plans", "title")), "Title 0001");
    assert_eq!(w(p.judge("b-17", "Object Identifying Id")), "Id 0001");
    assert_eq!(w(p.judge("Sales", "Application Value")), "Name 0001");
    assert_eq!(w(p.judge("Amy@Acme.example", "x")), "user0001@example.com");
    assert_eq!(
        w(p.judge("mailto:amy@acme.example", "href")),
        "mailto:user0001@example.com"
    );
    assert_eq!(p.texts(), 6);
    assert_eq!(p.apply("  Agile   Sales Team "), "Community 0001");
    assert_eq!(p.apply("public"), "public");
    assert_eq!(p.apply("never met"), "<unmapped: never met>");
}

#[test]
fn product_text_keeps_its_words_and_loses_its_ids() {
    let mut p = run();
    let u = "5a7c9e1b-0d2f-4a6b-8c1d-3e5f7a9b1c2d";
    let text = format!("Community {u} does not exist");
    let expected = format!("Community {} does not exist", p.uuid(u));
    assert_eq!(p.judge(&text, "Reason"), Verdict::InPlace(expected.clone()));
    assert_eq!(p.apply(&text), expected);
}

#[test]
fn hints_split_into_words() {
    assert_eq!(hint_words("createdBy"), ["created", "by"]);
    assert_eq!(
        hint_words("Old Community UUID"),
        ["old", "community", "uuid"]
    );
    assert_eq!(Word::of_hint("width"), Word::Name);
    assert_eq!(Word::of_hint("communityUuid"), Word::Id);
}
