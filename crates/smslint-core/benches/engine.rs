//! Engine benchmarks on the default policy: policy load and compile, normalisation,
//! classification of short, typical, long and non-ASCII messages, and the decision.
//!
//! Run with `cargo bench -p smslint-core --bench engine`. This machine is noisy: compare variants
//! within one run and read medians.

#![forbid(unsafe_code)]

use std::sync::LazyLock;

use divan::{black_box, Bencher};
use smslint_core::{
    decide, parse_snapshot, Message, NormalizedText, NumberProfile, Policy, SendContext,
};

fn main() {
    divan::main();
}

static POLICY: LazyLock<Policy> = LazyLock::new(|| {
    smslint_policy::load_default()
        .unwrap_or_else(|e| panic!("{e}"))
        .policy
});

static PROFILE: LazyLock<NumberProfile> = LazyLock::new(|| {
    let json = r#"{"phoneNumber": "+16501112345",
        "smsCampaignInfo": {"status": "Confirmed", "registrationTier": "LowVolume",
            "useCases": ["CustomerCare", "AccountNotification", "DeliveryNotification"]},
        "smsBrandInfo": {"status": "Verified"}}"#;
    parse_snapshot(json)
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
});

const SHORT: &str = "Your code is 482913";
const TYPICAL: &str = "Acme: your order #48213 has shipped and is out for delivery today. \
    Track your package at https://shop.example.com/track/48213. Reply STOP to opt out.";
const NON_ASCII: &str = "Café Lumière 🎉: ¡ＦＬＡＳＨ ＳＡＬＥ! 30 % de réduction — \
    aujourd'hui seulement. Répondez STOP pour vous désabonner.";

fn long() -> String {
    TYPICAL.repeat(6)
}

#[divan::bench]
fn policy_load_and_compile() -> Policy {
    smslint_policy::load_default()
        .unwrap_or_else(|e| panic!("{e}"))
        .policy
}

#[divan::bench(args = ["short", "typical", "long", "non_ascii"])]
fn normalize(bencher: Bencher, which: &str) {
    let text = message(which);
    bencher.bench(|| NormalizedText::new(black_box(&text)).folded().len());
}

#[divan::bench(args = ["short", "typical", "long", "non_ascii"])]
fn classify(bencher: Bencher, which: &str) {
    let policy = &*POLICY;
    let text = message(which);
    bencher.bench(|| policy.classify(&NormalizedText::new(black_box(&text))));
}

#[divan::bench]
fn decide_typical(bencher: Bencher) {
    let policy = &*POLICY;
    let profile = &*PROFILE;
    let classification = policy.classify(&NormalizedText::new(TYPICAL));
    let message = Message {
        text: TYPICAL,
        ..Message::default()
    };
    bencher.bench(|| {
        decide(
            policy,
            black_box(&classification),
            &[],
            profile,
            &message,
            &SendContext::default(),
        )
    });
}

fn message(which: &str) -> String {
    match which {
        "short" => SHORT.to_owned(),
        "typical" => TYPICAL.to_owned(),
        "long" => long(),
        _ => NON_ASCII.to_owned(),
    }
}
