# Numerical check of the zoo against torchvision itself: cleave's seeded weights are
# loaded into the torchvision models by module path and the logits compared.
# Needs Debian's python3-torch + python3-torchvision (under /usr/bin/python3); skipped
# (not registered) when they are missing.
execute_process(COMMAND /usr/bin/python3 -c "import torchvision"
                RESULT_VARIABLE CL_ZOO_HAVE_TORCHVISION OUTPUT_QUIET ERROR_QUIET)
if(CL_ZOO_HAVE_TORCHVISION EQUAL 0)
  add_test(NAME zoo_vs_torchvision
           COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/scripts/torchvision_counts.py
                   --numerics ${CMAKE_BINARY_DIR} resnet18 mobilenet_v2 googlenet squeezenet1_0
                   densenet121
           WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(zoo_vs_torchvision PROPERTIES LABELS slow TIMEOUT 300)
else()
  message(STATUS "torchvision not found under /usr/bin/python3: zoo_vs_torchvision not registered")
endif()

# The Keras family (test_zoo_keras is a unit test: counts, Scission blocks, new ops, three
# models run). The other 15 run here on both backends, whole and split (minutes: slow).
add_test(NAME zoo_keras_run_slow
         COMMAND test_zoo_keras keras/xception keras/vgg16 keras/vgg19 keras/resnet50 keras/resnet101
                 keras/resnet152 keras/resnet101v2 keras/resnet152v2 keras/inception_v3
                 keras/inceptionresnet_v2 keras/densenet169 keras/densenet201 keras/mobilenetv2 keras/resnet50v2
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(zoo_keras_run_slow PROPERTIES LABELS long TIMEOUT 1800)
add_test(NAME zoo_keras_nasnetlarge_slow COMMAND test_zoo_keras keras/nasnetlarge
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(zoo_keras_nasnetlarge_slow PROPERTIES LABELS long TIMEOUT 3600)
# cleave models --scission and cleave profile --blocks scission
add_test(NAME keras_cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/keras_cli_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(keras_cli PROPERTIES LABELS unit TIMEOUT 300)
