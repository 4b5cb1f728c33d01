//! The document model of the real procedure: what the checker and both
//! renderers will read. The snapshot pins the whole tree; the test above it
//! states what a reader relies on, so a snapshot update cannot quietly lose it.

use std::path::Path;

use procdoc::model::{Block, CalloutKind, Inline, Procedure, blocks_plain_text, plain_text};

fn real_procedure() -> Procedure {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut diags = Vec::new();
    let site = procdoc::site::load(
        root,
        &procdoc::cache::Cache::disabled(),
        false,
        false,
        &mut diags,
    )
    .expect("the repository is a site");
    assert!(diags.is_empty(), "{diags:?}");
    site.entries
        .into_iter()
        .filter_map(|e| e.into_doc())
        .map(|d| d.procedure)
        .find(|p| p.slug == "link-cmecf-pacer")
        .expect("procedures/link-cmecf-pacer.md")
}

#[test]
fn the_real_procedure_holds_the_seed_content() {
    let p = real_procedure();
    assert_eq!(
        p.front.title,
        "Link Your CM/ECF Account to Your Upgraded PACER Account"
    );
    assert_eq!(
        p.front.updated.map(|d| d.to_string()).as_deref(),
        Some("2021-06-28")
    );

    let numbers: Vec<u32> = p.steps().filter_map(|s| s.number).collect();
    assert_eq!(numbers, (1..=10).collect::<Vec<_>>());

    let callouts: Vec<CalloutKind> = p
        .top_blocks()
        .filter_map(|b| match b {
            Block::Callout { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(callouts, [CalloutKind::Important, CalloutKind::Warning]);

    let mut images = Vec::new();
    let mut refs = Vec::new();
    p.visit_inlines(&mut |i| match i {
        Inline::Image(img) => images.push((img.path.clone().unwrap(), img.alt.clone())),
        Inline::StepRef { number, .. } => refs.push(*number),
        _ => {}
    });
    assert_eq!(refs, [10], "step 9 refers the reader to step 10");
    assert_eq!(images.len(), 2);
    assert_eq!(images[0].0, Path::new("procedures/images/efiling-link.png"));
    assert!(
        images[0]
            .1
            .contains("The 'E-Filing (CM/ECF)' link is highlighted with a red box")
    );
    assert_eq!(images[1].0, Path::new("procedures/images/pacer-login.png"));
    assert!(
        images[1]
            .1
            .contains("three input fields: 'Username *', 'Password *', and 'Client Code'")
    );

    // Step 7 warns against linking a shared account; step 10 lists three things to try.
    let step = |n: u32| p.steps().find(|s| s.number == Some(n)).unwrap();
    assert!(blocks_plain_text(&step(7).action).contains("Do not link a shared PACER account"));
    match &step(10).action[..] {
        [
            Block::Paragraph { .. },
            Block::List {
                ordered: false,
                items,
                ..
            },
        ] => assert_eq!(items.len(), 3),
        other => panic!("step 10 is a sentence and a list: {other:?}"),
    }

    let headings: Vec<String> = p
        .sections
        .iter()
        .map(|s| plain_text(&s.heading.content))
        .collect();
    assert_eq!(
        headings,
        [
            "Log in with your PACER account",
            "Link the accounts",
            "Reminders"
        ]
    );
    match &p.sections[2].blocks[..] {
        [Block::List { items, .. }] => assert_eq!(items.len(), 2),
        other => panic!("the reminders are a list of two: {other:?}"),
    }
}

#[test]
fn the_real_procedure_model_snapshot() {
    insta::assert_json_snapshot!(real_procedure());
}
