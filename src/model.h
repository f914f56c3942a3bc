/* model.h: the classifier's model struct, shared by model.c
 * (classification), train.c (training, cross-validation) and model_io.c
 * (the text file) only (internal). */
#ifndef CALCSPEC_MODEL_H
#define CALCSPEC_MODEL_H

#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>

#define POOL_MAX 8
#define MAX_SUB 128      /* LDA groups: sub-classes of all classes */
#define MAX_PER_CLASS 8  /* sub-classes of one class */
#define MIN_SUB_SIZE 10  /* spectra per sub-class, at least */

struct cs_model {
  cs_technique technique;
  char *pipeline_text; /* canonical, includes crop and resample */
  double lo, hi, step;
  size_t p;            /* points on the model axis */
  size_t c;            /* classes */
  char names[CS_MAX_CLASSES][CS_CLASS_NAME_MAX];
  double log_prior[CS_MAX_CLASSES];
  size_t n_train[CS_MAX_CLASSES];
  csi_pca pca;
  csi_lda lda; /* over the ns sub-classes */
  size_t ns;   /* mixture sub-classes (LDA groups), >= c */
  int sub_class[MAX_SUB];  /* class of each sub-class */
  double sub_logw[MAX_SUB]; /* log share of its class's training spectra */
  double t2_limit, q_limit, min_posterior;
  double noise_floor; /* median p sigma^2 of the training spectra */
  double *refs; /* c x p pure-component references (class means) */
  double *refs_gram; /* c x c: refs' Gram matrix for the NNLS */
  int features;          /* CS_FEATURES_* */
  double detect_sigma;   /* mineral detection threshold (MINERAL) */
  /* built from the window on first use (MINERAL): a model chain holds one
   * per window, and most runs need only the first; csi_model_get_detector */
  csi_detector *_Atomic det;
  pthread_mutex_t det_lock; /* serialises building det */
  cs_model *alt;         /* next model of a chain (narrower window), owned */
  /* training summary, kept for the record */
  size_t n_spectra;
  double train_accuracy;
  /* pipeline pool */
  pthread_mutex_t lock;
  cs_pipeline *pool[POOL_MAX];
  size_t npool;
};

/* model.c */
/* A zeroed model with its pool lock initialised; NULL on OOM. */
cs_model *csi_model_alloc(void);
/* Return a pipeline to the model's pool (or free it when the pool is full). */
void csi_model_release(const cs_model *cm, cs_pipeline *p);
/* Is s a valid class name (letters, digits, '_' '-'; not "unknown")? */
int csi_model_class_name_ok(const char *s);
/* Noise variance of a preprocessed row (see model.c). */
double csi_model_noise_var(const double *row, size_t p);
/* Relative shape error the Q statistic tolerates, and its variance term
 * for a preprocessed row (model.c q_stat). */
#define CSI_Q_SHAPE_ERR 0.05
double csi_model_shape_var(const double *row, size_t p);
/* Score a preprocessed row[p] (posteriors, NNLS, reject options). */
cs_status csi_model_score(const cs_model *m, const double *row, cs_result *r,
                          cs_error *err);

/* Does the model run mineral detection?  Raman mineral-feature models
 * always; FTIR spectrum-feature models when they carry a detect_sigma
 * (models trained before FTIR detection do not, and classify as before). */
static inline int csi_model_detects(const cs_model *m) {
  return m->features == CS_FEATURES_MINERAL ||
         (m->technique == CS_TECH_FTIR && m->detect_sigma > 0);
}
/* Turn a preprocessed row into the model's features in place (MINERAL:
 * detection + tissue-free residual; SPECTRUM: unchanged); det gets the
 * detection (zeroed for SPECTRUM). */
cs_status csi_model_features(const cs_model *m, double *row,
                             csi_detection *det, cs_error *err);
/* Apply the detection rule to a scored result: below the threshold the
 * spectrum is tissue, at or above it never tissue. */
void csi_model_decide(const cs_model *m, const csi_detection *det,
                      const double *row, cs_result *r);
/* Check a MINERAL model's window for a detector and set m->p (window and
 * step set); the detector itself is built on first use. */
/* m->refs_gram from m->refs (after loading or training them). */
cs_status csi_model_refs_gram(cs_model *m, cs_error *err);
cs_status csi_model_detector(cs_model *m, cs_error *err);
/* cs_model_classify; with ox, *have_ox = 1 when the Raman oxalate subtype
 * measured s as "oxalate" (cs_composition_measure, no calibration) into
 * *ox, which cs_classify_spectrum keeps for cs_report_composition. */
cs_status csi_model_classify(const cs_model *m, const cs_spectrum *s,
                             cs_result *r, cs_composition *ox, int *have_ox,
                             cs_error *err);
/* *out = the model's detector (owned by the model), built by the first
 * caller (thread-safe; a failed build is retried by the next caller). */
cs_status csi_model_get_detector(const cs_model *m, const csi_detector **out,
                                 cs_error *err);

#endif /* CALCSPEC_MODEL_H */
