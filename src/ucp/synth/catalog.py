"""A small product catalogue with prices, and basket sampling for orders and receipts."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ucp.synth.pools import Weighted, derive_seed

_CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[int, int]]] = {
    "Apparel": (("Crew Sweater", "Oxford Shirt", "Chino Trousers", "Rain Jacket", "Linen Dress",
                 "Hoodie", "Denim Jeans", "Wool Scarf"), (19, 149)),
    "Shoes": (("Running Shoe", "Leather Boot", "Canvas Sneaker", "Sandal", "Loafer"), (39, 189)),
    "Home": (("Ceramic Mug", "Throw Blanket", "Scented Candle", "Table Lamp", "Cotton Towel",
              "Cushion Cover"), (9, 129)),
    "Beauty": (("Face Cream", "Shampoo", "Lip Balm", "Eau de Parfum", "Body Lotion"), (6, 89)),
    "Electronics": (("Wireless Earbuds", "Phone Case", "USB-C Charger", "Smart Speaker",
                     "Fitness Band"), (15, 249)),
    "Outdoor": (("Water Bottle", "Trail Backpack", "Camping Chair", "Headlamp"), (12, 179)),
}
_ADJECTIVES = ("Classic", "Essential", "Organic", "Slim", "Everyday", "Premium", "Recycled")


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    category: str
    price: float


def build_catalog(seed: int) -> Weighted[Product]:
    """About 250 products; popularity is Zipf-like (a few best sellers)."""
    rng = random.Random(derive_seed(seed, "catalog"))
    products: list[Product] = []
    for c_index, (category, (nouns, (low, high))) in enumerate(sorted(_CATEGORIES.items())):
        for n_index, noun in enumerate(nouns):
            for a_index, adjective in enumerate(_ADJECTIVES):
                price = round(rng.uniform(low, high)) - 0.01
                sku = f"{category[:3].upper()}-{c_index}{n_index:02d}{a_index:02d}"
                products.append(Product(sku, f"{adjective} {noun}", category, price))
    rng.shuffle(products)
    return Weighted.zipf(products, 0.9)


def basket(catalog: Weighted[Product], rng: random.Random) -> list[tuple[Product, int]]:
    """1-5 distinct lines, mostly one unit each."""
    lines: dict[str, tuple[Product, int]] = {}
    for _ in range(1 + int(rng.paretovariate(2.0)) % 5):
        product = catalog.pick(rng)
        quantity = 1 if rng.random() < 0.8 else rng.randrange(2, 4)
        lines[product.sku] = (product, quantity)
    return list(lines.values())
