"""Shop vocabulary: departments, categories, brands, colours, materials, sizes, styles and spellings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

CATEGORY_SEPARATOR = " > "

BUDGET, MID, PREMIUM = 0, 1, 2
TIERS: tuple[str, ...] = ("budget", "mid", "premium")
TIER_PRICE_FACTOR: tuple[float, ...] = (0.55, 1.0, 2.1)


@dataclass(frozen=True)
class Category:
    """A leaf category: its path, how sellers and shoppers name it, and what its products can be."""

    path: str
    nouns: tuple[str, ...]
    query_nouns: tuple[str, ...]
    base_price: float
    materials: tuple[str, ...]
    sizes: tuple[str, ...]
    colours: tuple[str, ...]
    weight: float = 1.0

    @property
    def department(self) -> str:
        return self.path.split(CATEGORY_SEPARATOR)[0]

    @property
    def audience(self) -> str | None:
        parts = self.path.split(CATEGORY_SEPARATOR)
        return {"Women": "Women's", "Men": "Men's", "Kids": "Kids'"}.get(parts[1]) if len(parts) > 2 else None


@dataclass(frozen=True)
class Department:
    """A department: its brands by price tier, styles, care and service sentences, and spec attributes."""

    name: str
    brands: tuple[tuple[str, int], ...]
    styles: tuple[str, ...]
    fillers: tuple[str, ...]
    attributes: tuple[tuple[str, tuple[str, ...]], ...]


ALPHA_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SHOE_SIZES = tuple(f"EU {n}" for n in range(36, 47))
CLOTHING_COLOURS = (
    "black",
    "white",
    "grey",
    "navy",
    "blue",
    "red",
    "green",
    "beige",
    "pink",
    "brown",
    "yellow",
)
SHOE_COLOURS = ("black", "white", "grey", "navy", "blue", "red", "beige", "brown", "green")
HOME_COLOURS = ("white", "grey", "black", "beige", "green", "blue", "pink", "brown", "yellow")
TECH_COLOURS = ("black", "white", "silver", "grey", "blue", "gold")
SPORT_COLOURS = ("black", "blue", "green", "purple", "pink", "grey", "red", "yellow")

CATEGORIES: tuple[Category, ...] = (
    Category(
        "Clothing > Women > Dresses",
        ("dress", "wrap dress", "midi dress", "sundress"),
        ("dresses", "dress"),
        59.0,
        ("cotton", "linen", "viscose", "silk", "polyester"),
        ALPHA_SIZES,
        CLOTHING_COLOURS,
        2.0,
    ),
    Category(
        "Clothing > Women > Tops",
        ("top", "blouse", "tee"),
        ("tops", "blouses", "top"),
        29.0,
        ("cotton", "organic cotton", "linen", "viscose", "silk"),
        ALPHA_SIZES,
        CLOTHING_COLOURS,
        1.8,
    ),
    Category(
        "Clothing > Women > Jeans",
        ("jeans", "denim jeans", "skinny jeans", "straight-leg jeans"),
        ("jeans", "womens jeans"),
        69.0,
        ("denim", "organic cotton"),
        ("W26 L30", "W28 L30", "W30 L32", "W32 L32"),
        ("blue", "black", "grey", "white"),
        1.2,
    ),
    Category(
        "Clothing > Men > Shirts",
        ("shirt", "oxford shirt", "button-down shirt"),
        ("shirts", "shirt"),
        45.0,
        ("cotton", "linen", "organic cotton", "polyester"),
        ALPHA_SIZES,
        CLOTHING_COLOURS,
        1.4,
    ),
    Category(
        "Clothing > Men > Jackets",
        ("jacket", "coat", "parka", "bomber jacket"),
        ("jackets", "coats"),
        129.0,
        ("wool", "polyester", "cotton", "leather", "down"),
        ALPHA_SIZES,
        CLOTHING_COLOURS,
        1.2,
    ),
    Category(
        "Clothing > Men > Trousers",
        ("trousers", "chinos", "pants"),
        ("trousers", "chinos", "pants"),
        59.0,
        ("cotton", "wool", "linen", "polyester"),
        ALPHA_SIZES,
        CLOTHING_COLOURS,
        1.0,
    ),
    Category(
        "Clothing > Kids > T-Shirts",
        ("t-shirt", "tee", "graphic tee"),
        ("kids t-shirts", "t-shirts"),
        15.0,
        ("cotton", "organic cotton"),
        ("2-3Y", "4-5Y", "6-7Y", "8-9Y", "10-11Y"),
        CLOTHING_COLOURS,
        0.8,
    ),
    Category(
        "Shoes > Sneakers",
        ("sneakers", "trainers", "low-top sneakers"),
        ("sneakers", "trainers"),
        89.0,
        ("leather", "canvas", "mesh", "suede", "synthetic"),
        SHOE_SIZES,
        SHOE_COLOURS,
        1.6,
    ),
    Category(
        "Shoes > Boots",
        ("boots", "ankle boots", "chelsea boots"),
        ("boots", "ankle boots"),
        139.0,
        ("leather", "suede", "synthetic"),
        SHOE_SIZES,
        ("black", "brown", "beige", "grey"),
        1.0,
    ),
    Category(
        "Shoes > Sandals",
        ("sandals", "slides", "flip-flops"),
        ("sandals", "slides"),
        39.0,
        ("leather", "rubber", "synthetic"),
        SHOE_SIZES,
        SHOE_COLOURS,
        0.8,
    ),
    Category(
        "Shoes > Running Shoes",
        ("running shoes", "runners", "road running shoes"),
        ("running shoes", "runners"),
        119.0,
        ("mesh", "synthetic"),
        SHOE_SIZES,
        SHOE_COLOURS,
        1.0,
    ),
    Category(
        "Home > Kitchen > Cookware",
        ("frying pan", "saucepan", "skillet", "casserole dish"),
        ("pans", "frying pan", "cookware"),
        49.0,
        ("stainless steel", "cast iron", "ceramic", "aluminium"),
        ("20 cm", "24 cm", "28 cm"),
        ("black", "grey", "white", "red", "blue"),
        1.0,
    ),
    Category(
        "Home > Bedding > Duvet Covers",
        ("duvet cover", "duvet set", "bedding set"),
        ("duvet covers", "bedding"),
        59.0,
        ("cotton", "linen", "organic cotton"),
        ("Single", "Double", "King", "Super King"),
        HOME_COLOURS,
        0.9,
    ),
    Category(
        "Home > Furniture > Chairs",
        ("chair", "dining chair", "armchair", "accent chair"),
        ("chairs", "dining chairs", "armchair"),
        149.0,
        ("oak", "walnut", "rattan", "velvet"),
        (),
        HOME_COLOURS,
        0.7,
    ),
    Category(
        "Home > Decor > Lamps",
        ("lamp", "table lamp", "floor lamp", "desk lamp"),
        ("lamps", "table lamp"),
        69.0,
        ("brass", "glass", "ceramic", "rattan"),
        (),
        HOME_COLOURS,
        0.8,
    ),
    Category(
        "Electronics > Audio > Headphones",
        ("headphones", "headset", "earbuds", "over-ear headphones"),
        ("headphones", "earbuds", "wireless headphones"),
        129.0,
        ("plastic", "aluminium"),
        (),
        TECH_COLOURS,
        1.2,
    ),
    Category(
        "Electronics > Audio > Speakers",
        ("speaker", "bluetooth speaker", "smart speaker"),
        ("speakers", "bluetooth speaker"),
        99.0,
        ("plastic", "aluminium"),
        (),
        TECH_COLOURS,
        0.8,
    ),
    Category(
        "Electronics > Computers > Laptops",
        ("laptop", "notebook", "ultrabook"),
        ("laptops", "laptop"),
        899.0,
        ("aluminium", "plastic"),
        ("13-inch", "14-inch", "15.6-inch", "16-inch"),
        TECH_COLOURS,
        0.7,
    ),
    Category(
        "Electronics > Phones > Smartphones",
        ("smartphone", "phone", "mobile phone"),
        ("smartphones", "phones", "phone"),
        599.0,
        ("aluminium", "glass"),
        ("128 GB", "256 GB", "512 GB"),
        TECH_COLOURS,
        0.9,
    ),
    Category(
        "Electronics > Wearables > Smartwatches",
        ("smartwatch", "fitness watch", "sports watch"),
        ("smartwatches", "fitness tracker"),
        199.0,
        ("aluminium", "stainless steel", "titanium"),
        ("41 mm", "45 mm"),
        TECH_COLOURS,
        0.7,
    ),
    Category(
        "Beauty > Skincare > Moisturisers",
        ("moisturiser", "moisturizer", "face cream", "day cream"),
        ("moisturiser", "face cream"),
        29.0,
        (),
        ("30 ml", "50 ml", "100 ml"),
        (),
        1.0,
    ),
    Category(
        "Beauty > Makeup > Lipstick",
        ("lipstick", "lip colour", "matte lipstick"),
        ("lipstick", "lipsticks"),
        19.0,
        (),
        (),
        ("red", "pink", "brown", "purple"),
        0.8,
    ),
    Category(
        "Beauty > Fragrance > Perfume",
        ("perfume", "eau de parfum", "eau de toilette", "fragrance"),
        ("perfume", "fragrance"),
        69.0,
        (),
        ("30 ml", "50 ml", "100 ml"),
        (),
        0.8,
    ),
    Category(
        "Beauty > Hair > Shampoo",
        ("shampoo", "hair wash"),
        ("shampoo",),
        12.0,
        (),
        ("250 ml", "500 ml"),
        (),
        0.7,
    ),
    Category(
        "Sports > Fitness > Yoga Mats",
        ("yoga mat", "exercise mat", "fitness mat"),
        ("yoga mats", "yoga mat"),
        35.0,
        ("TPE", "natural rubber", "cork"),
        ("4 mm", "6 mm", "8 mm"),
        SPORT_COLOURS,
        0.8,
    ),
    Category(
        "Sports > Fitness > Dumbbells",
        ("dumbbells", "dumbbell set", "hand weights"),
        ("dumbbells",),
        49.0,
        ("cast iron", "neoprene", "rubber"),
        ("2 kg", "5 kg", "10 kg"),
        ("black", "grey", "pink", "blue"),
        0.6,
    ),
    Category(
        "Sports > Cycling > Helmets",
        ("helmet", "bike helmet", "cycling helmet"),
        ("bike helmets", "helmet"),
        79.0,
        ("polycarbonate", "carbon fibre"),
        ("S", "M", "L"),
        SPORT_COLOURS,
        0.6,
    ),
    Category(
        "Sports > Outdoor > Tents",
        ("tent", "dome tent", "backpacking tent"),
        ("tents", "camping tent"),
        189.0,
        ("nylon", "polyester"),
        ("1-person", "2-person", "4-person"),
        ("green", "grey", "blue", "yellow"),
        0.5,
    ),
)

DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "Clothing",
        (
            ("Basix", BUDGET),
            ("Threadly", BUDGET),
            ("Urban Loom", BUDGET),
            ("Nordlicht", MID),
            ("Marlow & Finch", MID),
            ("Kaia", MID),
            ("Fjordline", MID),
            ("Maison Lumière", PREMIUM),
            ("Ardent Atelier", PREMIUM),
            ("Vellum", PREMIUM),
        ),
        ("casual", "formal", "vintage", "minimalist", "bohemian", "classic", "streetwear", "sporty"),
        (
            "Machine washable at 30°C.",
            "Hang to dry to keep its shape.",
            "The model is 178 cm tall.",
            "Part of our responsibly sourced range.",
            "Free returns within 30 days.",
            "Pairs well with your favourite accessories.",
            "Cut for a comfortable, regular fit.",
        ),
        (
            ("fit", ("regular", "slim", "relaxed", "oversized")),
            ("care", ("machine wash 30°C", "hand wash", "dry clean only")),
            ("pattern", ("solid", "striped", "floral", "checked")),
            ("origin", ("Portugal", "Turkey", "Bangladesh", "Italy")),
        ),
    ),
    Department(
        "Shoes",
        (
            ("Stride Co", BUDGET),
            ("Pacewell", BUDGET),
            ("Trailhaus", MID),
            ("Kicklab", MID),
            ("Solvej", MID),
            ("Calzoni", PREMIUM),
            ("Berrow & Sons", PREMIUM),
        ),
        ("casual", "sporty", "classic", "minimalist", "streetwear", "vintage", "formal"),
        (
            "Cushioned insole for all-day comfort.",
            "Grippy outsole for wet pavements.",
            "We recommend ordering your usual size.",
            "Comes with a spare pair of laces.",
            "Free returns within 30 days.",
        ),
        (
            ("closure", ("laces", "slip-on", "zip", "velcro")),
            ("sole", ("rubber", "EVA", "leather")),
            ("width", ("standard", "wide")),
        ),
    ),
    Department(
        "Home",
        (
            ("HomeNest", BUDGET),
            ("Kasa", BUDGET),
            ("Oakhaven", MID),
            ("Linden Living", MID),
            ("Brightwell", MID),
            ("Atelier Sjö", PREMIUM),
            ("Hearth & Hale", PREMIUM),
        ),
        ("scandinavian", "rustic", "modern", "minimalist", "industrial", "vintage", "classic"),
        (
            "Easy to clean.",
            "Delivered flat-packed with all fittings.",
            "Ships in recyclable packaging.",
            "Designed to last for years.",
            "Assembly takes about 15 minutes.",
        ),
        (
            ("care", ("wipe clean", "dishwasher safe", "machine washable")),
            ("warranty_months", ("12", "24", "60")),
            ("assembly", ("required", "not required")),
        ),
    ),
    Department(
        "Electronics",
        (
            ("Voltix", BUDGET),
            ("Zentro", BUDGET),
            ("Auralis", MID),
            ("Pixelon", MID),
            ("Nordtek", MID),
            ("Sonique", PREMIUM),
            ("Lumatek Pro", PREMIUM),
        ),
        ("modern", "minimalist", "retro", "professional", "gaming"),
        (
            "Includes a USB-C charging cable.",
            "Backed by a two-year warranty.",
            "Firmware updates over the air.",
            "Charger sold separately.",
            "Setup takes under five minutes.",
        ),
        (
            ("warranty_months", ("12", "24", "36")),
            ("connectivity", ("Bluetooth 5.3", "Wi-Fi 6", "USB-C")),
            ("battery_life_h", ("10", "20", "30", "40")),
        ),
    ),
    Department(
        "Beauty",
        (
            ("Glowly", BUDGET),
            ("PureBasics", BUDGET),
            ("Bloom & Dew", MID),
            ("Velora", MID),
            ("Skinsmith", MID),
            ("Maison Ambre", PREMIUM),
            ("Élixir Noir", PREMIUM),
        ),
        ("natural", "luxury", "classic", "minimalist", "vegan"),
        (
            "Dermatologically tested.",
            "Not tested on animals.",
            "Suitable for sensitive skin.",
            "Free from parabens.",
            "Store in a cool, dry place.",
        ),
        (
            ("skin_type", ("all", "dry", "oily", "combination")),
            ("vegan", ("yes", "no")),
            ("scent", ("unscented", "floral", "woody", "citrus")),
        ),
    ),
    Department(
        "Sports",
        (
            ("Fitfox", BUDGET),
            ("Actiq", BUDGET),
            ("Peakform", MID),
            ("Kinetik", MID),
            ("Trailborn", MID),
            ("Altura", PREMIUM),
            ("Summit Forge", PREMIUM),
        ),
        ("professional", "sporty", "minimalist", "classic", "outdoor"),
        (
            "Tested by athletes.",
            "Lightweight and easy to carry.",
            "Wipe clean after use.",
            "Suitable for beginners and pros.",
            "Comes with a carry bag.",
        ),
        (
            ("level", ("beginner", "intermediate", "pro")),
            ("weight_g", ("250", "500", "900", "1800")),
            ("warranty_months", ("12", "24")),
        ),
    ),
)

DEPARTMENT_INDEX: dict[str, int] = {d.name: i for i, d in enumerate(DEPARTMENTS)}

COLOUR_SURFACES: dict[str, tuple[str, ...]] = {
    "black": ("black", "jet black", "onyx"),
    "white": ("white", "off-white", "snow white"),
    "grey": ("grey", "gray", "charcoal grey", "slate"),
    "navy": ("navy", "navy blue", "midnight blue"),
    "blue": ("blue", "sky blue", "cobalt", "denim blue"),
    "red": ("red", "crimson", "cherry red", "burgundy"),
    "green": ("green", "olive", "forest green", "sage"),
    "beige": ("beige", "sand", "camel", "oatmeal"),
    "pink": ("pink", "blush", "dusty rose"),
    "brown": ("brown", "chocolate", "tan", "cognac"),
    "yellow": ("yellow", "mustard", "lemon"),
    "purple": ("purple", "lilac", "plum"),
    "silver": ("silver", "space grey"),
    "gold": ("gold", "champagne"),
}

MATERIAL_SURFACES: dict[str, tuple[str, ...]] = {
    "cotton": ("cotton", "100% cotton", "pure cotton", "soft cotton jersey"),
    "organic cotton": ("organic cotton", "GOTS-certified organic cotton"),
    "linen": ("linen", "pure linen", "washed linen"),
    "viscose": ("viscose", "flowing viscose"),
    "silk": ("silk", "mulberry silk"),
    "polyester": ("polyester", "recycled polyester"),
    "wool": ("wool", "wool blend", "virgin wool"),
    "leather": ("leather", "genuine leather", "full-grain leather"),
    "down": ("down", "duck down"),
    "denim": ("denim", "stretch denim", "rigid denim"),
    "canvas": ("canvas", "cotton canvas"),
    "mesh": ("mesh", "breathable mesh", "engineered knit"),
    "suede": ("suede", "soft suede"),
    "synthetic": ("synthetic", "vegan leather", "faux leather"),
    "rubber": ("rubber", "moulded rubber"),
    "stainless steel": ("stainless steel", "18/10 stainless steel"),
    "cast iron": ("cast iron", "enamelled cast iron"),
    "ceramic": ("ceramic", "non-stick ceramic", "glazed ceramic"),
    "aluminium": ("aluminium", "aluminum", "brushed aluminium"),
    "oak": ("oak", "solid oak", "oak veneer"),
    "walnut": ("walnut", "solid walnut"),
    "rattan": ("rattan", "woven rattan"),
    "velvet": ("velvet", "plush velvet"),
    "brass": ("brass", "brushed brass"),
    "glass": ("glass", "frosted glass", "Gorilla Glass"),
    "plastic": ("plastic", "recycled plastic"),
    "titanium": ("titanium",),
    "TPE": ("TPE", "eco TPE"),
    "natural rubber": ("natural rubber",),
    "cork": ("cork", "natural cork"),
    "neoprene": ("neoprene", "neoprene-coated"),
    "polycarbonate": ("polycarbonate", "in-mould polycarbonate"),
    "carbon fibre": ("carbon fibre", "carbon fiber"),
    "nylon": ("nylon", "ripstop nylon"),
}

STYLE_SURFACES: dict[str, tuple[str, ...]] = {
    "casual": ("casual", "everyday", "laid-back"),
    "formal": ("formal", "smart", "tailored"),
    "vintage": ("vintage", "retro-inspired", "vintage-style"),
    "minimalist": ("minimalist", "minimal", "clean-lined"),
    "bohemian": ("bohemian", "boho"),
    "classic": ("classic", "timeless"),
    "streetwear": ("streetwear", "urban"),
    "sporty": ("sporty", "athletic", "athleisure"),
    "scandinavian": ("scandinavian", "Scandi", "Nordic-style"),
    "rustic": ("rustic", "farmhouse"),
    "modern": ("modern", "contemporary", "sleek"),
    "industrial": ("industrial", "loft-style"),
    "retro": ("retro", "throwback"),
    "professional": ("professional", "pro-grade"),
    "gaming": ("gaming", "gamer"),
    "natural": ("natural", "clean-beauty"),
    "luxury": ("luxury", "luxe"),
    "vegan": ("vegan", "plant-based"),
    "outdoor": ("outdoor", "rugged"),
}

_ALPHA_SIZE_WORDS = {"XS": "extra small", "S": "small", "M": "medium", "L": "large", "XL": "extra large"}
_UNIT = re.compile(r"^([\d.]+) (ml|GB|cm|mm|kg)$")


@cache
def size_surfaces(size: str) -> tuple[str, ...]:
    """Ways a listing writes a size: 'M' or 'medium', '50 ml' or '50ml', 'EU 42' or '42'."""
    if size in _ALPHA_SIZE_WORDS:
        return (size, _ALPHA_SIZE_WORDS[size])
    if size.startswith("EU "):
        return (size, size[3:], "EU" + size[3:])
    if size.endswith("-inch"):
        number = size[: -len("-inch")]
        return (size, f"{number} inch", f'{number}"')
    unit = _UNIT.match(size)
    if unit:
        return (size, unit.group(1) + unit.group(2))
    if size in ("Single", "Double", "King", "Super King"):
        return (size, f"{size.lower()} size", size.lower())
    return (size,)


BRANDS: tuple[tuple[str, str, int], ...] = tuple(
    (name, dept.name, tier) for dept in DEPARTMENTS for name, tier in dept.brands
)
COLOURS: tuple[str, ...] = tuple(COLOUR_SURFACES)
MATERIALS: tuple[str, ...] = tuple(MATERIAL_SURFACES)
STYLES: tuple[str, ...] = tuple(STYLE_SURFACES)
SIZES: tuple[str, ...] = tuple(dict.fromkeys(s for c in CATEGORIES for s in c.sizes))

COLOUR_INDEX = {name: i for i, name in enumerate(COLOURS)}
MATERIAL_INDEX = {name: i for i, name in enumerate(MATERIALS)}
STYLE_INDEX = {name: i for i, name in enumerate(STYLES)}
SIZE_INDEX = {name: i for i, name in enumerate(SIZES)}
BRAND_INDEX = {name: i for i, (name, _, _) in enumerate(BRANDS)}


@cache
def brand_surfaces(brand: str) -> tuple[str, ...]:
    """Ways a listing writes a brand: as registered, in capitals, with '&' spelled out."""
    forms = [brand, brand.upper()]
    if "&" in brand:
        forms.append(brand.replace("&", "and"))
    return tuple(forms)
