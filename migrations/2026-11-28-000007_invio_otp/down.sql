DROP TABLE invio_otp;
ALTER TABLE sessione
    DROP COLUMN pincode_verificato,
    DROP COLUMN pincode_errori,
    DROP COLUMN captcha,
    DROP COLUMN captcha_scade;
