/*
** mk_relations.h — Scheme text of the list and number relations several
** unit tests load (string literals, to concatenate into a test's LIB).
*/
#ifndef PK_MK_RELATIONS_H
#define PK_MK_RELATIONS_H

#define PKT_APPENDO                  \
  "(defrel (appendo l s out)"        \
  "  (conde ((== '() l) (== s out))" \
  "         ((fresh (a d res) (== `(,a . ,d) l) (== `(,a . ,res) out) (appendo d s res)))))"

/* permo and the inserto it uses. */
#define PKT_PERMO                                                                 \
  "(defrel (permo l p)"                                                           \
  "  (conde ((== '() l) (== '() p))"                                              \
  "         ((fresh (a d pd) (== `(,a . ,d) l) (permo d pd) (inserto a pd p)))))" \
  "(defrel (inserto x l out)"                                                     \
  "  (conde ((== `(,x . ,l) out))"                                                \
  "         ((fresh (a d res) (== `(,a . ,d) l) (== `(,a . ,res) out) (inserto x d res)))))"

#define PKT_NATO "(defrel (nato n) (conde ((== n 'z)) ((fresh (m) (== n `(s ,m)) (nato m)))))"

#define PKT_LOOKUPO                                   \
  "(defrel (lookupo x env v)"                         \
  "  (fresh (y w rest) (== `((,y . ,w) . ,rest) env)" \
  "    (conde ((== x y) (== w v)) ((=/= x y) (lookupo x rest v)))))"

#endif
