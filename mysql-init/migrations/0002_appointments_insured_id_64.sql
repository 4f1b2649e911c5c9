-- Insured ids of up to 64 characters. Only where the column is narrower, so a table that has it
-- already is not altered (a prepared statement: MySQL 8.4 has no ALTER ... IF for a column type).
SET @widen_insured_id = IF(
    (SELECT character_maximum_length FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = 'appointments' AND column_name = 'insured_id') < 64,
    'ALTER TABLE appointments MODIFY insured_id VARCHAR(64) NOT NULL',
    'DO 0'
);
PREPARE widen_insured_id FROM @widen_insured_id;
EXECUTE widen_insured_id;
DEALLOCATE PREPARE widen_insured_id;
