//! `procdoc build`: the published site, read back and parsed as a browser
//! would (scraper), and the publishing rules (atomic, only our own folder,
//! byte-identical, layered themes, template errors named).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{copy_dir, real_site_copy, repo};
use scraper::{ElementRef, Html, Selector};

/// A copy of the three-procedure fixture (a build writes its cache into the
/// site's folder, and the fixture stays as committed).
fn multi() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("tests/fixtures/site/multi"), dir.path());
    dir
}

fn procdoc(dir: &Path, args: &[&str]) -> (i32, String) {
    let (status, _, stderr) = common::procdoc(dir, args);
    (status, stderr)
}

/// Build the site at `root` into a new temporary folder; return it.
fn build(root: &Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("site");
    let (status, stderr) = procdoc(root, &["build", "--out", target.to_str().unwrap()]);
    assert_eq!(status, 0, "{stderr}");
    out
}

fn page(out: &Path, rel: &str) -> Html {
    parse(&out.join("site").join(rel))
}

fn parse(file: &Path) -> Html {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    Html::parse_document(&text)
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn all<'a>(doc: &'a Html, s: &str) -> Vec<ElementRef<'a>> {
    doc.select(&sel(s)).collect()
}

fn one<'a>(doc: &'a Html, s: &str) -> ElementRef<'a> {
    let found = all(doc, s);
    assert_eq!(found.len(), 1, "exactly one {s}");
    found[0]
}

fn text(e: ElementRef) -> String {
    e.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every file of a folder with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_real_procedure_page_is_what_a_reader_relies_on() {
    let out = build(repo());
    let doc = page(out.path(), "link-cmecf-pacer/index.html");
    let title = "Link Your CM/ECF Account to Your Upgraded PACER Account";

    assert_eq!(one(&doc, "html").value().attr("lang"), Some("en"));
    assert!(text(one(&doc, "title")).starts_with(title));
    assert_eq!(text(one(&doc, "h1")), title);
    // Skip link first, to the main landmark.
    let skip = all(&doc, "body a")[0];
    assert_eq!(skip.value().attr("href"), Some("#main"));
    one(&doc, "main#main");
    one(&doc, "body > header");
    one(&doc, "body > footer");
    let crumbs = one(&doc, "nav[aria-label=Breadcrumb]");
    let crumb_links: Vec<_> = crumbs
        .select(&sel("a"))
        .map(|a| a.value().attr("href").unwrap())
        .collect();
    assert_eq!(crumb_links, ["../", "../#category-e-filing-cm-ecf"]);
    assert_eq!(crumbs.select(&sel("[aria-current=page]")).count(), 1);

    // Callouts, their kind in words.
    let callouts: Vec<String> = all(&doc, ".callout[role=note] .callout-title")
        .into_iter()
        .map(text)
        .collect();
    assert_eq!(callouts, ["Important", "Warning"]);

    // Steps: ordered lists numbered as in the source, each step linkable.
    let lists = all(&doc, "ol.steps");
    assert_eq!(lists.len(), 2);
    let mut ids = Vec::new();
    for list in &lists {
        let start: u32 = list.value().attr("start").map_or(1, |s| s.parse().unwrap());
        for (k, li) in list.select(&sel(":scope > li")).enumerate() {
            let id = li.value().attr("id").unwrap();
            assert_eq!(
                id,
                format!("step-{}", start + k as u32),
                "the list's numbering matches the step's id"
            );
            ids.push(id.to_string());
        }
    }
    assert_eq!(
        ids,
        (1..=10).map(|n| format!("step-{n}")).collect::<Vec<_>>()
    );
    assert_eq!(lists[1].value().attr("start"), Some("4"));
    let step_ref = one(&doc, "a.step-ref");
    assert_eq!(
        (step_ref.value().attr("href"), text(step_ref).as_str()),
        (Some("#step-10"), "step 10")
    );
    assert!(text(one(&doc, "#step-7")).contains("Do not link a shared PACER account"));
    assert_eq!(all(&doc, "#step-10 ul > li").len(), 3);

    // Screenshots: figures with the seed's description, sized, lazy, 2x.
    let figures = all(&doc, "figure.screenshot");
    assert_eq!(figures.len(), 2);
    for (figure, shot) in figures.iter().zip(["efiling-link", "pacer-login"]) {
        let img = figure.select(&sel("img")).next().unwrap().value();
        let src = img.attr("src").unwrap();
        assert!(src.starts_with(&format!("../images/{shot}-")), "{src}");
        let file = out.path().join("site").join(src.trim_start_matches("../"));
        let (w, h) = image::image_dimensions(&file).unwrap();
        assert_eq!(
            (img.attr("width"), img.attr("height")),
            (Some(&*w.to_string()), Some(&*h.to_string()))
        );
        assert_eq!(w, 720, "as wide as the content column");
        assert_eq!(img.attr("loading"), Some("lazy"));
        assert!(
            img.attr("alt").unwrap().len() > 100,
            "the seed's description"
        );
        let srcset: Vec<&str> = img.attr("srcset").unwrap().split(", ").collect();
        assert_eq!(srcset.len(), 2);
        let full = figure
            .select(&sel("figcaption a"))
            .next()
            .unwrap()
            .value()
            .attr("href")
            .unwrap();
        let full_file = out.path().join("site").join(full.trim_start_matches("../"));
        assert_eq!(
            std::fs::read(full_file).unwrap(),
            std::fs::read(repo().join(format!("procedures/images/{shot}.png"))).unwrap(),
            "the full-size link is the original"
        );
    }
    assert!(figures[0].value().attr("class").is_some());
    assert_eq!(
        all(&doc, "img[alt]")
            .iter()
            .filter(|i| i
                .value()
                .attr("alt")
                .unwrap()
                .contains("'E-Filing (CM/ECF)' link is highlighted with a red box"))
            .count(),
        1
    );

    let updated = one(&doc, ".meta time");
    assert_eq!(updated.value().attr("datetime"), Some("2021-06-28"));
    assert!(text(one(&doc, ".meta")).starts_with("Last updated June 28, 2021"));
}

#[test]
fn the_real_procedure_main_snapshot() {
    let out = build(repo());
    let html =
        std::fs::read_to_string(out.path().join("site/link-cmecf-pacer/index.html")).unwrap();
    let start = html.find("<main").unwrap();
    let end = html.find("</main>").unwrap() + "</main>".len();
    insta::assert_snapshot!(&html[start..end]);
}

#[test]
fn the_index_lists_every_procedure_by_category() {
    let out = build(multi().path());
    let doc = page(out.path(), "index.html");
    assert_eq!(text(one(&doc, "h1")), "Clerk's Office Guides");
    let categories: Vec<String> = all(&doc, "main h2").into_iter().map(text).collect();
    assert_eq!(categories, ["E-Filing (CM/ECF)", "Jury"]);
    // By weight within a category, then title.
    let titles: Vec<String> = all(&doc, ".procedure-card h3 a")
        .into_iter()
        .map(text)
        .collect();
    assert_eq!(
        titles,
        ["Link Accounts", "File a Motion", "Answer a Jury Summons"]
    );
    let hrefs: Vec<&str> = all(&doc, ".procedure-card h3 a")
        .iter()
        .map(|a| a.value().attr("href").unwrap())
        .collect();
    assert_eq!(hrefs, ["link-accounts/", "file-a-motion/", "jury-duty/"]);
    let card = all(&doc, ".procedure-card")[1];
    assert!(text(card).contains("Upload a motion and its exhibits."));
    assert_eq!(
        card.select(&sel("time"))
            .next()
            .unwrap()
            .value()
            .attr("datetime"),
        Some("2024-02-29")
    );
    // The filter is there for JavaScript to reveal; without it, the full list.
    let filter = one(&doc, "[data-filter]");
    assert!(filter.value().attr("hidden").is_some());
    one(&doc, "script[src^='static/filter.js']");
}

#[test]
fn pages_link_to_each_other_and_escape_template_syntax() {
    let out = build(multi().path());
    let doc = page(out.path(), "file-a-motion/index.html");
    // A link to another procedure's step, and previous/next in the category.
    let link = all(&doc, "#step-1 a")[0];
    assert_eq!(link.value().attr("href"), Some("../link-accounts/#step-2"));
    let pager: Vec<&str> = all(&doc, "nav.pager a")
        .iter()
        .map(|a| a.value().attr("href").unwrap())
        .collect();
    assert_eq!(pager, ["../link-accounts/"]);
    // "Steps 2 and 3" in a callout links both; "steps 1-2" too.
    let refs: Vec<&str> = all(&doc, "a.step-ref")
        .iter()
        .map(|a| a.value().attr("href").unwrap())
        .collect();
    assert_eq!(refs, ["#step-2", "#step-3", "#step-1", "#step-2"]);
    // Template syntax in an action is text, not evaluated.
    let step3 = text(one(&doc, "#step-3"));
    assert!(
        step3.contains("{{ config }} {% raw %} {# x #} ${7*7} #{x}"),
        "{step3}"
    );
    one(&doc, "#step-3 kbd");
    one(&doc, "#step-3 br");
    // A picture wider than twice the column: both copies made, never the
    // original in the page; a small one is used as it is.
    let wide = one(&doc, "#step-2 img").value();
    assert_eq!(
        (wide.attr("width"), wide.attr("height")),
        (Some("720"), Some("180"))
    );
    assert!(wide.attr("srcset").unwrap().contains("-1440.png 1440w"));
    let small = one(&doc, "#step-4 img").value();
    assert_eq!(
        (
            small.attr("width"),
            small.attr("height"),
            small.attr("srcset")
        ),
        (Some("400"), Some("300"), None)
    );
    assert_eq!(small.attr("title"), Some("Receipt"));
    // The table that is not a step table, with header cells.
    let jury = page(out.path(), "jury-duty/index.html");
    assert_eq!(all(&jury, "table th[scope=col]").len(), 2);
    assert_eq!(
        one(&jury, "table td a").value().attr("href"),
        Some("tel:+16015550100")
    );
}

#[test]
fn sitemap_and_404_use_the_base_url() {
    let out = build(multi().path());
    let sitemap = std::fs::read_to_string(out.path().join("site/sitemap.xml")).unwrap();
    for url in [
        "<loc>https://www.example.uscourts.gov/guides/</loc>",
        "<loc>https://www.example.uscourts.gov/guides/file-a-motion/</loc><lastmod>2024-02-29</lastmod>",
        "<loc>https://www.example.uscourts.gov/guides/link-accounts/</loc>",
    ] {
        assert!(sitemap.contains(url), "{url} in {sitemap}");
    }
    let not_found = page(out.path(), "404.html");
    assert_eq!(text(one(&not_found, "h1")), "Page not found");
    assert!(
        all(&not_found, "main a")
            .iter()
            .any(|a| a.value().attr("href") == Some("/guides/"))
    );
    assert!(all(&not_found, "link[rel=stylesheet]").iter().all(|l| {
        l.value()
            .attr("href")
            .unwrap()
            .starts_with("/guides/static/")
    }));
}

#[test]
fn two_builds_are_byte_identical() {
    let a = build(multi().path());
    let b = build(multi().path());
    let (ta, tb) = (tree(&a.path().join("site")), tree(&b.path().join("site")));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(
            tb[path] == *bytes,
            "{} differs between two builds",
            path.display()
        );
    }
}

#[test]
fn a_failed_build_leaves_the_previous_site() {
    let site = tempfile::tempdir().unwrap();
    copy_dir(multi().path(), site.path());
    let (status, stderr) = procdoc(site.path(), &["build"]);
    assert_eq!(status, 0, "{stderr}");
    let before = tree(&site.path().join("output"));

    // A check error: nothing published.
    let p = site.path().join("procedures/link-accounts.md");
    let good = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, good.replace("| 2 | Log in. |", "| 3 | Log in. |")).unwrap();
    let (status, stderr) = procdoc(site.path(), &["build"]);
    assert_eq!(status, 1);
    assert!(stderr.contains("error[E002]"), "{stderr}");
    assert!(tree(&site.path().join("output")) == before);

    // A template error: named with its file and line; nothing published.
    std::fs::write(&p, &good).unwrap();
    std::fs::create_dir_all(site.path().join("templates")).unwrap();
    std::fs::write(
        site.path().join("templates/procedure.html"),
        "{% extends \"base.html\" %}\n{% block main %}\n{% if %}\n{% endblock main %}\n",
    )
    .unwrap();
    let (status, stderr) = procdoc(site.path(), &["build"]);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("templates/procedure.html"), "{stderr}");
    assert!(stderr.contains("3:"), "the line of the error: {stderr}");
    assert!(tree(&site.path().join("output")) == before);
    assert!(
        !site.path().join(".output.procdoc-new").exists(),
        "no staging folder left behind"
    );

    // A theme that does not exist.
    std::fs::remove_dir_all(site.path().join("templates")).unwrap();
    let toml = site.path().join("procdoc.toml");
    std::fs::write(
        &toml,
        std::fs::read_to_string(&toml).unwrap() + "theme = \"nope\"\n",
    )
    .unwrap();
    let (status, stderr) = procdoc(site.path(), &["build"]);
    assert_eq!(status, 1);
    assert!(
        stderr.contains("the theme `nope` does not exist"),
        "{stderr}"
    );
    assert!(
        stderr.contains("court, default"),
        "lists the themes there are: {stderr}"
    );
    assert!(tree(&site.path().join("output")) == before);
}

#[test]
fn only_a_folder_procdoc_made_is_replaced() {
    let site = tempfile::tempdir().unwrap();
    copy_dir(multi().path(), site.path());
    // Someone's folder: refused, untouched.
    let theirs = site.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(theirs.join("keep.txt"), "mine").unwrap();
    let (status, stderr) = procdoc(site.path(), &["build", "--out", "theirs"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("was not made by procdoc"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(theirs.join("keep.txt")).unwrap(),
        "mine"
    );
    // `--out .` would be the site itself.
    let (status, _) = procdoc(site.path(), &["build", "--out", "."]);
    assert_eq!(status, 2);
    assert!(site.path().join("procedures/link-accounts.md").is_file());
    // A place that cannot be written (a file where a folder should be).
    let (status, stderr) = procdoc(site.path(), &["build", "--out", "theirs/keep.txt/site"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("theirs/keep.txt"), "{stderr}");
    // Its own folder it replaces, and the marker says so.
    let (status, _) = procdoc(site.path(), &["build", "--out", "public"]);
    assert_eq!(status, 0);
    assert!(site.path().join("public/.procdoc-output").is_file());
    let (status, _) = procdoc(site.path(), &["build", "--out", "public"]);
    assert_eq!(status, 0);
}

#[test]
fn themes_layer_and_the_built_in_one_needs_no_files() {
    // Only procdoc.toml and procedures/: the built-in default theme.
    let site = real_site_copy("default");
    let (status, stderr) = procdoc(site.path(), &["build"]);
    assert_eq!(status, 0, "{stderr}");
    let doc = parse(&site.path().join("output/link-cmecf-pacer/index.html"));
    one(&doc, "img.site-logo");

    // The site's own template overrides a single file of the theme.
    std::fs::create_dir_all(site.path().join("templates/partials")).unwrap();
    std::fs::write(
        site.path().join("templates/partials/footer.html"),
        "<footer class=\"custom\"><p>Clerk's Office, {{ site.court }}</p></footer>\n",
    )
    .unwrap();
    let (status, stderr) = procdoc(site.path(), &["build"]);
    assert_eq!(status, 0, "{stderr}");
    let doc = parse(&site.path().join("output/index.html"));
    assert!(text(one(&doc, "footer.custom")).contains("Southern District of Mississippi"));
    one(&doc, "header.site-header");

    // The court theme: the seal and the court's name in the header band.
    let toml = site.path().join("procdoc.toml");
    std::fs::write(
        &toml,
        std::fs::read_to_string(&toml)
            .unwrap()
            .replace("theme = \"default\"", "theme = \"court\""),
    )
    .unwrap();
    let (status, stderr) = procdoc(site.path(), &["build"]);
    assert_eq!(status, 0, "{stderr}");
    let doc = parse(&site.path().join("output/link-cmecf-pacer/index.html"));
    one(&doc, "header.court-header img.court-seal");
    assert_eq!(
        text(one(&doc, ".court-name")),
        "United States District Court for the Southern District of Mississippi"
    );
    one(&doc, "link[href^='../static/theme.css']");
}
