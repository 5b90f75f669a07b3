-- A cart is written with one conditional statement instead of a locking transaction: the
-- writer reads the cart and its version, applies the change, and the update only lands when
-- the version is still the one it read (otherwise it reads again). An order deletes the row,
-- so a write racing an order starts a new cart, as before.
ALTER TABLE carts ADD COLUMN version bigint NOT NULL DEFAULT 0;
