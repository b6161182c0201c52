-- Database per service: each service gets its own database, owned by its own
-- role, and no other role may connect to it. A service that reached into
-- another's tables would fail here instead of quietly coupling the two. The
-- read model (src/read-model) gets one the same way: the workers' outbox
-- relays write it through the projection, and the API reads it.
--
-- The postgres image runs this once, when the services-postgresql volume is
-- first initialised (files in /docker-entrypoint-initdb.d, with
-- ON_ERROR_STOP). After editing it, recreate the volume:
--   docker compose down -v
--
-- The passwords are for a local stack only; docker-compose.yml repeats them in
-- the *_DATABASE_URL variables, and `npm run check:compose` checks that the two
-- agree.

CREATE ROLE orders LOGIN PASSWORD 'orders';
CREATE DATABASE orders OWNER orders;
REVOKE ALL ON DATABASE orders FROM PUBLIC;

CREATE ROLE inventory LOGIN PASSWORD 'inventory';
CREATE DATABASE inventory OWNER inventory;
REVOKE ALL ON DATABASE inventory FROM PUBLIC;

CREATE ROLE payments LOGIN PASSWORD 'payments';
CREATE DATABASE payments OWNER payments;
REVOKE ALL ON DATABASE payments FROM PUBLIC;

CREATE ROLE shipping LOGIN PASSWORD 'shipping';
CREATE DATABASE shipping OWNER shipping;
REVOKE ALL ON DATABASE shipping FROM PUBLIC;

CREATE ROLE views LOGIN PASSWORD 'views';
CREATE DATABASE views OWNER views;
REVOKE ALL ON DATABASE views FROM PUBLIC;
