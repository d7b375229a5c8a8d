DROP TABLE fornitura_revoche_trasmissione;
DROP TABLE fornitura_revoche;
DROP TABLE comunicazione_revoca;
DROP TABLE evento_tessera;
