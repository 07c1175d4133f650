use super::report::html_text;
use super::*;
use crate::dialect::{Dialect, ALL};
use lc_core::formats::export as x;

#[test]
fn exports_round_trip_in_every_dialect_with_awkward_text() {
    let recs = vec![
        Record {
            id: "a&b".into(),
            community_uuid: "u1".into(),
            copy: Copy {
                name: "R&D <\"team\"> 'x' Diseño – 東京".into(),
                visibility: "public".into(),
                moderation: "none".into(),
                theme: "default".into(),
            },
        },
        Record {
            id: "c".into(),
            community_uuid: "u2".into(),
            copy: Copy {
                name: "plain".into(),
                visibility: "private".into(),
                moderation: "premoderation".into(),
                theme: "blue".into(),
            },
        },
    ];
    let ideas = lc_core::apps::by_id("IdeationBlog").unwrap();
    for d in ALL {
        let mut out = Vec::new();
        assert_eq!(
            write_export(&mut out, *d, ideas, recs.clone().into_iter()).unwrap(),
            2
        );
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(text.contains(x::SIMULATED_NOTE), "{d}");
        assert_eq!(
            *d == Dialect::Classic,
            std::str::from_utf8(&out).is_err(),
            "{d}"
        );
        let mut app = String::new();
        let mut got = Vec::new();
        read_export(*d, &out[..], |item| {
            match item {
                Item::App(a) => app = a,
                Item::Record(r) => got.push(r),
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(app, "IdeationBlog", "{d}");
        assert_eq!(got, recs, "{d}");
        // Another dialect's reader refuses it, naming both roots.
        let other = ALL[(ALL.iter().position(|x| x == d).unwrap() + 1) % ALL.len()];
        let err = read_export(other, &out[..], |_| Ok(())).unwrap_err();
        assert!(
            format!("{err:#}").contains("the root element is <"),
            "{d}: {err:#}"
        );
    }
}

#[test]
fn report_text_uses_each_dialects_entities() {
    let s = "Diseño – 東京 & <x>";
    assert_eq!(
        html_text(Dialect::Lcsim, s),
        "Diseño – 東京 &amp; &lt;x&gt;"
    );
    assert_eq!(
        html_text(Dialect::Classic, s),
        "Dise&ntilde;o &ndash; &#26481;&#20140; &amp; &lt;x&gt;"
    );
    assert_eq!(
        html_text(Dialect::Compact, s),
        "Dise&#xF1;o &#x2013; &#x6771;&#x4EAC; &amp; &lt;x&gt;"
    );
}
