"""Generate the example project's sample data, deterministically (run once; output committed).

    python manifests/data/generate.py

Writes customers.csv and orders.csv beside this file. Every value is synthetic: emails use the
reserved example.* domains and phone numbers a fictitious range, so no real person appears.
"""
from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
CUSTOMERS = 5000
REFERENCE_DAY = dt.date(2026, 11, 1)
FIRST_NAMES = [
    "Emma", "Louis", "Olivia", "Lucas", "Mila", "Noah", "Alice", "Arthur", "Louise", "Jules",
    "Sofia", "Victor", "Elena", "Adam", "Nora", "Liam", "Chloé", "Hugo", "Zoé", "Léon",
    "Anna", "Jonas", "Lena", "Finn", "Marta", "Mateo", "Inès", "Théo", "Julia", "Kai",
]
LAST_NAMES = [
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
    "Wouters", "De Smet", "Dubois", "Lambert", "Martin", "Dupont", "Leroy", "Müller",
    "Schmidt", "Fischer", "García", "Rossi", "Visser", "Bakker", "Smit", "Meyer", "Laurent",
]
COUNTRIES = ["BE"] * 40 + ["FR"] * 25 + ["NL"] * 15 + ["DE"] * 10 + ["LU"] * 5 + ["ES"] * 5
DOMAINS = ["example.com", "example.org", "example.net"]


def _ascii(text: str) -> str:
    table = str.maketrans("éèüíáóç", "eeuiaoc")
    return text.lower().replace(" ", "").translate(table)


def generate(
    rng: random.Random, customers_count: int = CUSTOMERS
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    customers: list[dict[str, object]] = []
    orders: list[dict[str, object]] = []
    order_id = 100000
    for n in range(1, customers_count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        created = REFERENCE_DAY - dt.timedelta(days=rng.randint(30, 1500))
        order_count = max(0, int(rng.expovariate(1 / 4)))
        order_days = sorted(
            created + dt.timedelta(days=rng.randint(0, (REFERENCE_DAY - created).days))
            for _ in range(order_count)
        )
        amounts = [round(rng.lognormvariate(4.0, 0.8), 2) for _ in order_days]
        for day, amount in zip(order_days, amounts, strict=True):
            order_id += 1
            orders.append(
                {"order_id": order_id, "customer_id": f"C{n:06d}", "order_date": day.isoformat(),
                 "amount": f"{amount:.2f}"}
            )
        customers.append(
            {
                "customer_id": f"C{n:06d}",
                # ~1% have no email: bad data the plan must report, not sync.
                "email": "" if rng.random() < 0.01
                else f"{_ascii(first)}.{_ascii(last)}{n}@{rng.choice(DOMAINS)}",
                "phone": "" if rng.random() < 0.2 else f"+3247{rng.randint(0, 9_999_999):07d}",
                "first_name": first,
                "last_name": last,
                "country": rng.choice(COUNTRIES),
                "lifetime_value": f"{sum(amounts):.2f}",
                "last_order_date": order_days[-1].isoformat() if order_days else "",
                "email_consent": str(rng.random() < 0.7).lower(),
                "sms_consent": str(rng.random() < 0.35).lower(),
                "created_at": created.isoformat(),
            }
        )
    return customers, orders


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    customers, orders = generate(random.Random(20261101))
    write_csv(HERE / "customers.csv", customers)
    write_csv(HERE / "orders.csv", orders)
    print(f"wrote {len(customers)} customers and {len(orders)} orders to {HERE}")


if __name__ == "__main__":
    main()
