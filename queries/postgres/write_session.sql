-- reckon migrate: the writing session, pinned. UTC so that a timestamp text means one instant;
-- UTF-8 so that text is stored as it is sent.
SET TimeZone = 'UTC';
SET client_encoding = 'UTF8';
