-- Immuni OTP service (issue 6): the OTPs authorised by the HIS, by SHA-256 only (never the code
-- in clear), each live for 150 seconds and usable once by the app's check.
CREATE TABLE otp_autorizzato (
    -- SHA-256 of the OTP, lowercase hex: the app's Bearer token.
    sha256          TEXT           PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- symptoms_started_on of the authorisation.
    inizio_sintomi  DATE           NOT NULL,
    autorizzato_il  TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    -- After this instant the row counts as absent (a new authorisation may replace it).
    scade_il        TIMESTAMPTZ(3) NOT NULL,
    -- When the app's check-otp used it; a used OTP cannot be checked again.
    usato_il        TIMESTAMPTZ(3)
);

-- The purge of expired rows.
CREATE INDEX otp_autorizzato_scade_il ON otp_autorizzato (scade_il);
