//! Config parsing, round trips and error paths.

use geoscenario::config::emit::{world_to_toml, world_to_value};
use geoscenario::config::parse::{world_from_toml, world_from_value};
use geoscenario::{CoreError, World};

fn err_path(toml: &str) -> String {
    match world_from_toml(toml) {
        Err(CoreError::Invalid { path, .. }) => path,
        other => panic!("expected an invalid-parameter error, got {other:?}"),
    }
}

#[test]
fn default_world_round_trips_through_toml_and_value() {
    let w = World::default_world();
    assert_eq!(world_from_toml(&world_to_toml(&w)).unwrap(), w);
    assert_eq!(world_from_value(&world_to_value(&w)).unwrap(), w);
    assert_eq!(w.scenarios.len(), 3);
    assert_eq!(w.factors.len(), 11);
    let probs: Vec<f64> = w.scenarios.iter().map(|s| s.probability).collect();
    assert_eq!(probs, vec![0.55, 0.25, 0.20]);
}

#[test]
fn thresholds_name_series_of_every_kind_and_round_trip() {
    let base = geoscenario::config::DEFAULT_WORLD_TOML;
    let w = World::default_world();
    assert_eq!(w.thresholds, vec![("potash_spot".to_string(), 450.0)]);
    // a derived series and a strategy NAV too, in the config's order
    let more = base.replace(
        "potash_spot = 450.0",
        "potash_spot = 450.0\ndislocation = -25\ndirect_belarus = 1.0",
    );
    let w = world_from_toml(&more).unwrap();
    let names: Vec<&str> = w.thresholds.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["potash_spot", "dislocation", "direct_belarus"]);
    assert_eq!(w.thresholds[1].1, -25.0);
    assert_eq!(world_from_toml(&world_to_toml(&w)).unwrap(), w);
    for (bad, path) in [
        ("nope = 1.0", "thresholds.nope"),
        ("spot_price = 1.0", "thresholds.spot_price"),
        ("potash_spot = inf", "thresholds.potash_spot"),
        ("potash_spot = \"450\"", "thresholds.potash_spot"),
    ] {
        assert_eq!(err_path(&base.replace("potash_spot = 450.0", bad)), path);
    }
}

#[test]
fn errors_name_the_parameter_path() {
    let base = geoscenario::config::DEFAULT_WORLD_TOML;
    let cases = [
        (
            base.replace("sigma = 0.40, lambda = 1.5", "sigma = -0.40, lambda = 1.5"),
            "scenarios.bear.potash_spot.sigma",
        ),
        (
            base.replace("sigma = 0.40, lambda = 1.5", "sigma = nan, lambda = 1.5"),
            "scenarios.bear.potash_spot.sigma",
        ),
        (
            base.replace("theta = 480.0, kappa = 0.6", "thta = 480.0, kappa = 0.6"),
            "scenarios.bear.potash_spot.thta",
        ),
        (
            base.replace("probability = 0.20", "probability = 1.20"),
            "scenarios.bear.probability",
        ),
        (
            base.replace("probability = 0.20", "probability = 0.21"),
            "scenarios.*.probability",
        ),
        (
            base.replace("hk_equity = 0.6", "hk_equity = 1.6"),
            "correlations.global_equity.hk_equity",
        ),
        (
            base.replace("onset = [1, 12]", "onset = [12, 1]"),
            "scenarios.bear.onset",
        ),
        (base.replace("[world]", "[world]\ncolour = 1"), "world.colour"),
        (
            base.replace("kind = \"gbm\"", "kind = \"gbmx\""),
            "factors.middle_corridor_volume.kind",
        ),
    ];
    for (toml, path) in cases {
        assert_eq!(err_path(&toml), path);
    }
}

#[test]
fn non_psd_correlation_is_an_error_naming_the_matrix() {
    let toml = r#"
[factors.a]
kind = "gbm"
initial = 1.0
[factors.b]
kind = "gbm"
initial = 1.0
[factors.c]
kind = "gbm"
initial = 1.0
[correlations.a]
b = 0.9
c = -0.9
[correlations.b]
c = 0.9
[scenarios.base]
probability = 1.0
a = { g = 0.0, sigma = 0.1 }
b = { g = 0.0, sigma = 0.1 }
c = { g = 0.0, sigma = 0.1 }
"#;
    assert_eq!(err_path(toml), "correlations");
}

#[test]
fn hostile_text_is_an_error_not_a_panic() {
    for text in [
        "",
        "[[[",
        "a = ",
        "x = 1e999999",
        "[world]\nname = 5",
        &"[a.".repeat(10_000),
        "\u{0}",
    ] {
        let _ = world_from_toml(text).map(|_| ()).unwrap_err();
    }
}
