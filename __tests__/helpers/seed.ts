// The sample answer of ../shared/seed/flux-token-endpoint.md, verbatim.
/** The seed's sample access token: a JWS with a gzip-compressed payload. */
export const SEED_ACCESS_TOKEN =
  'eyJhbGciOiJSUzI1NiIsInppcCI6IkdaSVAifQ.H4sIAAAAAAAAAG2QXU_CMBSG_4o5l2aFMvfVJV4wNUIQRnQYxHrRbh1U2UfWoiyE_25nDEbjzXtynvPkvTgHeNUSQuCYsNS_4MjBJDPhc8SxS1BAiO0ybLOUDcACqZSRddPm292-l1aFYWyXGeZhW_AgZ4h7wkOOkwWIeDlHeeAGjm3S5b6Rxb6GcOAOsEOw7dsWlDz_BoHndaAQmmVMM9N5oJBupSh10taCQkiBUgrRcDbpJgWLgpLrUpbraZX9CPE8Gcez4d1faSLak6OGbPWu9OZx_aYTlo756GkZTe-3H6yqltFVUcSrRT26xnlfXZ56atEU5gOyKtVX0XN3mS-Ssz7b6U2_d97tVhe3N__Aefzwm75QOJqfNELpRqZaZEkF4eF4_ASh9oBSlQEAAA.lhFAvvhm52GcKw-n89T-eUTgVjM5ygsLnwxz_gazXQePpoRD9dAULE2aDhNF5FUl5c2Ix9d36xR0rajoNJ_GmQ';

/** The seed's sample refresh token: base64 with `+`, `/` and `=`. */
export const SEED_REFRESH_TOKEN = 'JT911IQ03V+Gs81Jcut8smRDvU+ssGCl6HPfbHa+2YDbPGITkuVX1naHDKQOXCJqyKphhIJRyXX1OGEbY/ARyg==';
