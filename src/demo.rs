//! A realistic demo catalog, generated deterministically (no IO here; the catalog service writes it).
use crate::domain::catalog::{CategoryDraft, ProductDraft};
use crate::domain::ids::CategoryId;
use crate::domain::money::Money;

pub const CATEGORIES: [(&str, &str, &[&str]); 12] = [
    (
        "Coffee",
        "Beans, ground coffee and capsules from small roasters.",
        &[
            "Espresso Beans",
            "Filter Roast",
            "Decaf Blend",
            "Cold Brew Pack",
            "Single Origin",
        ],
    ),
    (
        "Tea",
        "Loose-leaf and bagged teas.",
        &["Green Tea", "Earl Grey", "Chai Mix", "Rooibos", "Oolong"],
    ),
    (
        "Kitchen",
        "Tools for cooks who care.",
        &[
            "Chef's Knife",
            "Cutting Board",
            "Cast Iron Pan",
            "Whisk",
            "Measuring Cups",
        ],
    ),
    (
        "Tableware",
        "Plates, mugs and glasses.",
        &[
            "Ceramic Mug",
            "Dinner Plate",
            "Water Glass",
            "Salad Bowl",
            "Espresso Cup",
        ],
    ),
    (
        "Books",
        "Cookbooks and guides.",
        &[
            "Baking Basics",
            "Coffee Atlas",
            "Tea Journeys",
            "Fermentation",
            "Knife Skills",
        ],
    ),
    (
        "Stationery",
        "Paper goods for lists and letters.",
        &[
            "Notebook",
            "Fountain Pen",
            "Recipe Cards",
            "Planner",
            "Sticky Notes",
        ],
    ),
    (
        "Bags",
        "Totes and backpacks.",
        &[
            "Canvas Tote",
            "Market Bag",
            "Daypack",
            "Lunch Bag",
            "Wine Carrier",
        ],
    ),
    (
        "Home",
        "Small things for a calm home.",
        &[
            "Scented Candle",
            "Linen Napkins",
            "Plant Pot",
            "Throw Blanket",
            "Doormat",
        ],
    ),
    (
        "Garden",
        "Seeds, tools and pots.",
        &[
            "Herb Seeds",
            "Trowel",
            "Watering Can",
            "Pruning Shears",
            "Seed Tray",
        ],
    ),
    (
        "Snacks",
        "Things to nibble with your coffee.",
        &[
            "Almond Biscotti",
            "Dark Chocolate",
            "Shortbread",
            "Granola",
            "Salted Nuts",
        ],
    ),
    (
        "Brewing",
        "Gear for better coffee at home.",
        &[
            "Pour-Over Cone",
            "French Press",
            "Hand Grinder",
            "Gooseneck Kettle",
            "Paper Filters",
        ],
    ),
    (
        "Gifts",
        "Ready-made gift sets.",
        &[
            "Tasting Set",
            "Gift Card Box",
            "Starter Kit",
            "Advent Box",
            "Sampler Crate",
        ],
    ),
];

const ADJECTIVES: [&str; 10] = [
    "Classic", "Organic", "Large", "Small", "Premium", "Everyday", "Limited", "Rustic", "Modern",
    "Travel",
];

pub fn categories() -> Vec<CategoryDraft> {
    CATEGORIES
        .iter()
        .map(|(name, description, _)| CategoryDraft {
            name: (*name).into(),
            description: (*description).into(),
        })
        .collect()
}

/// `count` products spread over `category_ids` (in the order of `categories()`).
pub fn products(
    count: usize,
    category_ids: &[CategoryId],
) -> impl Iterator<Item = ProductDraft> + '_ {
    (0..count).map(move |i| {
        let slot = i % CATEGORIES.len();
        let (category, _, nouns) = CATEGORIES[slot];
        let noun = nouns[(i / CATEGORIES.len()) % nouns.len()];
        let adjective = ADJECTIVES[(i / (CATEGORIES.len() * nouns.len())) % ADJECTIVES.len()];
        let batch = i / (CATEGORIES.len() * nouns.len() * ADJECTIVES.len());
        let name = if batch == 0 {
            format!("{adjective} {noun}")
        } else {
            format!("{adjective} {noun} No. {}", batch + 1)
        };
        // A spread of prices from 1.49 to ~250, and roughly one product in eight sold out.
        let cents = 149 + ((i as i64 * 7919) % 24_900);
        let stock = if i % 8 == 5 {
            0
        } else {
            ((i * 37) % 120 + 1) as u32
        };
        ProductDraft {
            name,
            description: format!(
                "{noun} from our {category} range. A good choice for everyday use."
            ),
            price: Money::from_cents(cents),
            stock,
            category_id: category_ids[slot % category_ids.len()],
        }
    })
}
