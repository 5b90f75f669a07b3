-- A filtered page's count (category and/or price range, in stock) is answered from the index
-- alone: the stock rides along in the price indexes, so counting ~17,000 matches of a
-- category's price range reads no table pages (an index-only scan, 4-16 ms at 1M products,
-- instead of ~200 ms fetching every matching row's page). Stock updates were not HOT before
-- either (`products_in_stock` has stock in its predicate), so writes pay nothing new.
-- Rebuilding holds writes to products for the build (about 2 s per million products).
DROP INDEX products_category_price;
CREATE INDEX products_category_price ON products (category_id, price_cents, id) INCLUDE (stock);
DROP INDEX products_price;
CREATE INDEX products_price ON products (price_cents, id) INCLUDE (stock, category_id);
