#!/usr/bin/env python3
"""Write a deterministic JSON Lines corpus of SMS messages for `check --batch` benchmarks.

Usage: gen_corpus.py N [SEED] > corpus.jsonl

The mix follows a pre-send pipeline's traffic: about 35% notifications, 20% one-time codes,
25% marketing (some with evasions, shorteners or prohibited topics), 20% conversational; about a
fifth of the messages carry non-ASCII (emoji, accents, curly quotes). Lengths run from about 80
to 300 bytes. The same N and SEED always give the same bytes.
"""
import json
import random
import sys

BRANDS = ["Acme", "Bright Smiles Dental", "Casa Verde", "FitLife", "Harbor Inn", "Lakeside Realty",
          "Northwind Bank", "Pet Pals", "QuickFix", "Riverside College", "Springfield Water",
          "Summit Outdoors", "Union Credit", "Vista Pharmacy", "Zen Yoga"]
NAMES = ["Dana", "Sam", "Maria", "Alex", "Priya", "Jordan", "Chris", "Taylor", "Noah", "Ava",
         "José", "Zoë", "Renée", "Łukasz"]
ITEMS = ["boots", "jackets", "tents", "sneakers", "backpacks", "headphones", "coffee makers"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Non-ASCII endings, used for about a fifth of the messages.
EXTRAS = [" 🎉", " 📦", " ✅", " — thanks!", " ¡Gracias!", " Merci 😊", " “See you soon”"]

NOTIFICATIONS = [
    "{b}: your order #{n5} has shipped! Track your package at https://shop.example.com/track/{n5}.{x}",
    "{b}: your package is out for delivery and should arrive by {h}pm today.{x}",
    "{b}: your statement is ready. Balance: ${amt}, payment due {d}. View it in the app.{x}",
    "Reminder from {b}: your appointment is {d} at {h}:30 AM. Reply C to confirm or R to reschedule.{x}",
    "{b}: we received your payment of ${amt}. Thank you, {name}!{x}",
    "{b} fraud alert: did you use card ending {n4} for ${amt} at {b2}? Reply YES or NO.{x}",
    "{b}: new sign-in to your account from Chrome on Windows. If this wasn't you, reset your password in the app.{x}",
    "Thanks for contacting {b} Support! Your ticket #{n5} has been received; an agent will reply within 24 hours.{x}",
    "{b}: your membership renews on {d} for ${amt}. No action is needed.{x}",
    "{b}: boil water advisory in effect for Zone {n1} until further notice.{x}",
]
OTP = [
    "Your {b} verification code is {n6}. It expires in 10 minutes. Do not share it.",
    "{n6} is your {b} login code. Never share this code with anyone.{x}",
    "{b}: use {n6} to verify your phone number.",
    "Your one-time passcode for {b} is {n4}.",
]
MARKETING = [
    "{b}: {pct}% off all {item} this weekend only! Shop now at https://shop.example.com/sale. Reply STOP to opt out.{x}",
    "Flash sale at {b}! Use promo code SAVE{n2} for {pct}% off {item}. Txt STOP to end.{x}",
    "{b}: new arrivals just dropped. Free shipping on orders over $50, limited time! Reply STOP to unsubscribe.{x}",
    "{b}: BOGO {item} today only. Details: https://bit.ly/{code}{x}",
    "{b}: FR33 {item} for our best customers, c4$h back on every order!{x}",
    "{b}: you've won a ${amt} gift card! Claim your prize now at {b2}.com/claim{x}",
    "Happy hour at {b}! $5 margaritas and half-price wine until {h}pm.{x}",
    "{b}: how did we do today, {name}? Reply 1-5 and get {pct}% off your next visit. Reply STOP to opt out.{x}",
]
CONVERSATIONAL = [
    "Hi {name}, following up on our conversation {d}. I'll send the revised quote tonight.{x}",
    "Thanks for your time today! When works for you next week for a quick call?{x}",
    "Hey {name}, it's {name2} from {b}. Quick question about the measurements, free to chat?{x}",
    "Sounds good, see you {d} at {h}. Talk soon!{x}",
    "Reminder to all staff: team meeting at {h}pm in the break room.{x}",
    "Can you cover my shift {d} {h}-{h2}? Let me know by tonight.{x}",
]

MIX = [(NOTIFICATIONS, 0.35), (OTP, 0.20), (MARKETING, 0.25), (CONVERSATIONAL, 0.20)]


def message(rng):
    r = rng.random()
    acc = 0.0
    for group, weight in MIX:
        acc += weight
        if r < acc:
            break
    template = rng.choice(group)
    digits = lambda k: "".join(rng.choice("0123456789") for _ in range(k))
    values = dict(
        b=rng.choice(BRANDS), b2=rng.choice(BRANDS).replace(" ", ""), name=rng.choice(NAMES),
        name2=rng.choice(NAMES), item=rng.choice(ITEMS), d=rng.choice(DAYS),
        h=rng.randint(1, 11), h2=rng.randint(1, 11), n1=digits(1), n2=digits(2), n4=digits(4),
        n5=digits(5), n6=digits(6), amt=f"{rng.randint(5, 999)}.{digits(2)}",
        pct=rng.choice([10, 15, 20, 25, 30, 40, 50]),
        code="".join(rng.choice("abcdefghijkLMNOP23") for _ in range(6)),
        x=rng.choice(EXTRAS) if rng.random() < 0.2 else "",
    )
    text = template.format(**values)
    # Most business texts carry a sign-off; some run long.
    if rng.random() < 0.85:
        text += " " + " ".join(rng.choice(["Questions? Call us at 800-555-0100.", "We're here to help.",
                                            "Visit us online for details and hours.", "Have a great day!",
                                            "Msg & data rates may apply.", "Reply HELP for help.",
                                            "See our FAQ at https://help.example.com/faq."])
                                for _ in range(rng.randint(1, 5)))
    return text


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seed = int(sys.argv[2], 0) if len(sys.argv) > 2 else 0x5EED_0000_2026_0001
    rng = random.Random(seed)
    out = sys.stdout
    for i in range(n):
        record = {"id": f"m-{i + 1}", "text": message(rng)}
        if rng.random() < 0.3:
            record["to"] = "+1415555" + "".join(rng.choice("0123456789") for _ in range(4))
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
