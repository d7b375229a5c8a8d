DROP TABLE otp_autorizzato;
