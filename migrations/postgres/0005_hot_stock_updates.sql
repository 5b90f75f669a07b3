-- An order's stock change becomes a HOT update: before, `stock` itself sat in three indexes (the
-- in-stock predicate, and INCLUDEd in the price indexes for index-only counts), so every
-- order wrote a new entry into each of the products' ten indexes. The indexes now carry
-- `in_stock`, which only changes when a product sells out or comes back; the counts stay
-- index-only. Adding the column rewrites the table and the indexes are rebuilt: writes to
-- products wait for it (a few seconds per million products).
ALTER TABLE products ADD COLUMN in_stock boolean GENERATED ALWAYS AS (stock > 0) STORED;
DROP INDEX products_in_stock;
CREATE INDEX products_in_stock ON products (category_id, id) WHERE in_stock;
DROP INDEX products_category_price;
CREATE INDEX products_category_price ON products (category_id, price_cents, id) INCLUDE (in_stock);
DROP INDEX products_price;
CREATE INDEX products_price ON products (price_cents, id) INCLUDE (in_stock, category_id);
-- The shop's usual filter (a category's price range, in stock) gets an index of its own: its
-- count reads this index alone. With the flag in the predicate the planner otherwise prefers
-- `products_in_stock` and a visit to every matching row's page.
CREATE INDEX products_category_price_in_stock ON products (category_id, price_cents, id)
    WHERE in_stock;
