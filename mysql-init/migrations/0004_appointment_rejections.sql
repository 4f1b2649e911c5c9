-- Appointments refused because their slot was taken: one row each, so a repeated delivery is
-- recognised and announced once.
CREATE TABLE IF NOT EXISTS appointment_rejections (
    appointment_id CHAR(26)        NOT NULL,
    insured_id     VARCHAR(64)     NOT NULL,
    schedule_id    BIGINT UNSIGNED NOT NULL,
    created_at     DATETIME(3)     NOT NULL,
    rejected_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (appointment_id)
) ENGINE = InnoDB;
