-- reckon migrate: the writing session, pinned. UTC; utf8mb4; a strict sql_mode, so that a value
-- a column cannot hold is an error, never a silent truncation or a zero date.
SET time_zone = '+00:00';
SET NAMES utf8mb4;
SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'
