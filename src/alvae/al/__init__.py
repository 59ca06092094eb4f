"""Stage 3: Algorithm 1, one AL run per dataset x strategy x seed (rule al_run), and the t-SNE selection experiment (rule tsne_select)."""
